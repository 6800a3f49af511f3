import { sendIfDatabaseUnavailable } from '@tollgate/service-kit/health';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { defineProblems, type Problem, type ProblemKind, schemaProblem, sendProblem } from 'tollgate/fastify';

/** Every kind of problem the service answers besides tollgate's own (`problems`), declared once. */
export const serviceProblems = defineProblems({
  'invalid-request': { status: 400, title: 'Invalid Request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  'not-found': { status: 404, title: 'Not Found' },
  'payload-too-large': { status: 413, title: 'Payload Too Large' },
  'uri-too-long': { status: 414, title: 'URI Too Long' },
  'unsupported-media-type': { status: 415, title: 'Unsupported Media Type' },
  'invalid-payment': { status: 422, title: 'Invalid Payment' },
  'simulation-in-progress': { status: 429, title: 'Simulation In Progress' },
  'internal-error': { status: 500, title: 'Internal Server Error' },
  'processor-unavailable': { status: 503, title: 'Payment Processor Unavailable' },
  'simulation-unavailable': { status: 503, title: 'Simulation Unavailable' },
  'rate-limits-unavailable': { status: 503, title: 'Rate Limits Unavailable' },
});

/** A problem the service answers: RFC 9457 members plus snake_case extension members. */
export type ServiceProblem = Problem;

/**
 * A request refused before any work (a body parser, a hook): thrown, it is answered with its
 * problem by {@link errorHandler}, so refusals made where Fastify expects an error still
 * answer one problem document from one place.
 */
export class ProblemError extends Error {
  readonly code = 'ERR_PAYMENTS_PROBLEM';
  constructor(readonly problem: ServiceProblem) {
    super(problem.detail);
  }
}

/** A 4xx that names the one field at fault (a JSON pointer, `/amount`, `/metadata/k`). */
export function fieldProblem(
  status: 400 | 415 | 422,
  where: 'body' | 'params' | 'querystring' | 'headers',
  field: string,
  message: string,
): ServiceProblem {
  const kind =
    status === 415
      ? serviceProblems['unsupported-media-type']
      : status === 422
        ? serviceProblems['invalid-payment']
        : serviceProblems['invalid-request'];
  return { ...kind, detail: `${field}: ${message}`, errors: [{ in: where, field, message }] };
}

/** Sends `problem` as `application/problem+json`. */
export { sendProblem };

/**
 * Every error as a problem: schema failures (400, with `errors`), Fastify's own 4xx (bad JSON,
 * 413, 415) with their status, a {@link ProblemError} as it says, an unreachable database 503
 * with `Retry-After`, anything else a 500 that says nothing about internals.
 */
export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof ProblemError) return sendProblem(reply, error.problem);
  const invalid = schemaProblem(error, serviceProblems['invalid-request']);
  if (invalid) return sendProblem(reply, invalid);
  const status = error.statusCode ?? 500;
  if (status === 414) {
    // Fastify's message repeats the whole URL (up to the header limit): not worth echoing.
    return sendProblem(reply, {
      ...serviceProblems['uri-too-long'],
      detail: 'A path parameter is longer than this service accepts (100 characters).',
    });
  }
  if (status >= 400 && status < 500) {
    const kinds: Record<number, ProblemKind> = {
      413: serviceProblems['payload-too-large'],
      415: serviceProblems['unsupported-media-type'],
    };
    return sendProblem(reply, {
      ...(kinds[status] ?? serviceProblems['invalid-request']),
      status,
      detail: error.message,
    });
  }
  const unavailable = sendIfDatabaseUnavailable(error, request, reply);
  if (unavailable) return unavailable;
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, {
    ...serviceProblems['internal-error'],
    detail: 'The server failed to answer this request. Retry with the same Idempotency-Key.',
  });
}

/** 404 for a path the service does not have. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, {
    ...serviceProblems['not-found'],
    detail: `There is no ${request.method} ${request.url.split('?')[0]}.`,
  });
}
