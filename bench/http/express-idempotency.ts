/**
 * The glue a user writes to put `express-idempotency` with `express-idempotency-redis-adapter`
 * on an Express route, as their READMEs describe: the middleware with the Redis data adapter,
 * and `isHit` in the handler (the middleware calls `next()` after sending a replay, so the
 * handler must not run the effect again). The bench's own code; none of theirs is copied.
 */
import type { Request, RequestHandler } from 'express';
import { getSharedIdempotencyService, idempotency } from 'express-idempotency';
import redisAdapterModule from 'express-idempotency-redis-adapter';

/** A CommonJS module with `exports.default`: Node hands its `module.exports` to `import`. */
const RedisAdapter = redisAdapterModule.default;

export interface ExpressIdempotency {
  /** The middleware to put before the route's handler, after body parsing. */
  readonly middleware: RequestHandler;
  /** True when the middleware has already answered with a stored response (a replay). */
  readonly answered: (request: Request) => boolean;
}

/** Connects the Redis data adapter and makes the middleware (a process-wide singleton). */
export async function expressIdempotency(redisUrl: string): Promise<ExpressIdempotency> {
  const dataAdapter = new RedisAdapter({ connectionConfig: { url: redisUrl } });
  await dataAdapter.connect();
  const middleware = idempotency({ dataAdapter }) as unknown as RequestHandler;
  const service = getSharedIdempotencyService();
  return { middleware, answered: (request) => service.isHit(request as never) };
}
