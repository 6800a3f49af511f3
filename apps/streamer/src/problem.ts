import { sendIfDatabaseUnavailable } from '@tollgate/service-kit/health';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  defineProblems,
  type Problem,
  type ProblemKind,
  problemAnswer,
  schemaProblem,
  sendProblem,
} from 'tollgate/fastify';

/** Every kind of problem the service answers besides tollgate's own (`problems`), declared once. */
export const serviceProblems = defineProblems({
  'invalid-request': { status: 400, title: 'Invalid Request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  'insufficient-funds': { status: 402, title: 'Insufficient Funds' },
  'invoice-not-found': { status: 404, title: 'Invoice Not Found' },
  'not-found': { status: 404, title: 'Not Found' },
  'streamer-not-found': { status: 404, title: 'Streamer Not Found' },
  'payload-too-large': { status: 413, title: 'Payload Too Large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported Media Type' },
  'idempotency-key-used': { status: 422, title: 'Idempotency Key Already Used' },
  'invoice-already-paid': { status: 422, title: 'Invoice Already Paid' },
  'payment-mismatch': { status: 422, title: 'Payment Does Not Match Invoice' },
  'unknown-invoice': { status: 422, title: 'Unknown Invoice' },
  'unknown-streamer': { status: 422, title: 'Unknown Streamer' },
  'internal-error': { status: 500, title: 'Internal Server Error' },
});

/** A problem the service answers: RFC 9457 members plus snake_case extension members. */
export type ServiceProblem = Problem;

/** The media type of every problem. */
export const PROBLEM_JSON = 'application/problem+json';

/** The bytes of `problem` as `application/problem+json` (what a stored outcome keeps). */
export function problemBody(problem: ServiceProblem): string {
  return problemAnswer(problem).body as string;
}

/** Sends `problem` as `application/problem+json`. */
export { sendProblem };

const clientErrors: Record<number, ProblemKind> = {
  413: serviceProblems['payload-too-large'],
  415: serviceProblems['unsupported-media-type'],
};

/**
 * Every error as a problem: schema failures 400 with `errors`, Fastify's own 4xx (bad JSON,
 * 413, 415) with their status, an unreachable database 503 with `Retry-After`; anything else a
 * 500 that says nothing about internals.
 */
export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const invalid = schemaProblem(error, serviceProblems['invalid-request']);
  if (invalid) return sendProblem(reply, invalid);
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const kind = clientErrors[status] ?? serviceProblems['invalid-request'];
    return sendProblem(reply, { ...kind, status, detail: error.message });
  }
  const unavailable = sendIfDatabaseUnavailable(error, request, reply);
  if (unavailable) return unavailable;
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, {
    ...serviceProblems['internal-error'],
    detail: 'The server failed to answer this request. Retry with the same idempotency key.',
  });
}

/** 404 for a path the service does not have. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, {
    ...serviceProblems['not-found'],
    detail: `There is no ${request.method} ${request.url.split('?')[0]}.`,
  });
}
