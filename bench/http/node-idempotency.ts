/**
 * The glue a user writes to put `@node-idempotency/core` with its Redis storage adapter on a
 * Fastify route, as the core's README describes: `onRequest` before the handler (a stored answer
 * is replayed, a conflict refused), `onResponse` once the first execution has its answer. It is
 * the bench's own code, written from the packages' documentation; none of theirs is copied.
 */
import {
  Idempotency,
  IdempotencyError,
  IdempotencyErrorCodes,
  type IdempotencyParams,
} from '@node-idempotency/core';
import { RedisStorageAdapter } from '@node-idempotency/storage-adapter-redis';
import type { FastifyReply, FastifyRequest, onSendHookHandler, preHandlerAsyncHookHandler } from 'fastify';

/** Route hooks to spread into a Fastify route's options. */
export interface NodeIdempotencyHooks {
  readonly preHandler: preHandlerAsyncHookHandler;
  readonly onSend: onSendHookHandler<unknown>;
}

const statusOf: Record<IdempotencyErrorCodes, number> = {
  [IdempotencyErrorCodes.IDEMPOTENCY_KEY_LEN_EXEEDED]: 400,
  [IdempotencyErrorCodes.IDEMPOTENCY_KEY_MISSING]: 400,
  [IdempotencyErrorCodes.IDEMPOTENCY_FINGERPRINT_MISSMATCH]: 422,
  [IdempotencyErrorCodes.REQUEST_IN_PROGRESS]: 409,
};

/** What was stored with a completed key besides the body. */
interface Additional {
  status: number;
  contentType: string | undefined;
}

/** Connects the storage adapter to Redis and answers the hooks of an idempotent route. */
export async function nodeIdempotencyHooks(redisUrl: string): Promise<NodeIdempotencyHooks> {
  const storage = new RedisStorageAdapter({ url: redisUrl });
  await storage.connect();
  const idempotency = new Idempotency(storage, { enforceIdempotency: true });
  /** Requests that claimed their key and must complete it with their answer. */
  const claimed = new WeakSet<FastifyRequest>();
  const params = (request: FastifyRequest): IdempotencyParams => ({
    method: request.method,
    path: request.routeOptions.url ?? request.url,
    headers: request.headers,
    body: request.body as Record<string, unknown>,
  });
  return {
    async preHandler(request, reply: FastifyReply) {
      try {
        const stored = await idempotency.onRequest<string, string>(params(request));
        if (!stored) {
          claimed.add(request);
          return;
        }
        const additional = stored.additional as unknown as Additional;
        if (additional.contentType) reply.header('content-type', additional.contentType);
        return reply
          .code(additional.status)
          .header('idempotent-replayed', 'true')
          .send(stored.body ?? stored.error);
      } catch (error) {
        if (!(error instanceof IdempotencyError)) throw error;
        if (error.code === IdempotencyErrorCodes.REQUEST_IN_PROGRESS) reply.header('retry-after', '1');
        return reply.code(statusOf[error.code]).send({ title: error.message });
      }
    },
    async onSend(request, reply, payload) {
      if (!claimed.delete(request)) return payload;
      const additional: Additional = {
        status: reply.statusCode,
        contentType: reply.getHeader('content-type') as string | undefined,
      };
      const answer = reply.statusCode < 400 ? { body: payload } : { error: payload };
      await idempotency.onResponse(params(request), {
        ...answer,
        additional: additional as unknown as Record<string, unknown>,
      });
      return payload;
    },
  };
}
