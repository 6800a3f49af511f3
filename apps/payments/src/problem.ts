import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_TYPE_BASE } from 'tollgate/fastify';
import { isDatabaseUnavailable } from './database/unavailable.ts';

/** A problem the service answers: RFC 9457 members plus snake_case extension members. */
export interface ServiceProblem {
  /** The slug after {@link PROBLEM_TYPE_BASE}, e.g. `invalid-request`. */
  readonly slug: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly [member: string]: unknown;
}

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
  const [slug, title] =
    status === 415
      ? ['unsupported-media-type', 'Unsupported Media Type']
      : status === 422
        ? ['invalid-payment', 'Invalid Payment']
        : ['invalid-request', 'Invalid Request'];
  return { slug, title, status, detail: `${field}: ${message}`, errors: [{ in: where, field, message }] };
}

/** How long a client should wait before retrying while the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** Sends `problem` as `application/problem+json`. */
export function sendProblem(reply: FastifyReply, problem: ServiceProblem): FastifyReply {
  const { slug, ...members } = problem;
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: PROBLEM_TYPE_BASE + slug, ...members }));
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Where a validation issue points, as a JSON pointer (`/amount`, `/metadata/k`). */
function pointer(issue: ValidationIssue): string {
  const missing = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  return `${issue.instancePath ?? ''}${missing === undefined ? '' : `/${String(missing)}`}` || '/';
}

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
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    return sendProblem(reply, {
      slug: 'invalid-request',
      title: 'Invalid Request',
      status: 400,
      detail: `The ${where} does not match the schema: ${error.message}`,
      errors: (error.validation as ValidationIssue[]).map((issue) => ({
        in: where,
        field: pointer(issue),
        message: issue.message ?? 'is invalid',
      })),
    });
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const slugs: Record<number, string> = { 413: 'payload-too-large', 415: 'unsupported-media-type' };
    return sendProblem(reply, {
      slug: slugs[status] ?? 'invalid-request',
      title:
        status === 413 ? 'Payload Too Large' : status === 415 ? 'Unsupported Media Type' : 'Invalid Request',
      status,
      detail: error.message,
    });
  }
  if (isDatabaseUnavailable(error)) {
    // Details go to the log only: the client learns that it may retry, and when.
    request.log.warn({ err: error }, 'database unavailable');
    return sendProblem(reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS)), {
      slug: 'database-unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: `The database is unreachable. Retry after ${DATABASE_RETRY_AFTER_SECONDS} s (with the same Idempotency-Key, if any).`,
      retry_after: DATABASE_RETRY_AFTER_SECONDS,
    });
  }
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, {
    slug: 'internal-error',
    title: 'Internal Server Error',
    status: 500,
    detail: 'The server failed to answer this request. Retry with the same Idempotency-Key.',
  });
}

/** 404 for a path the service does not have. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, {
    slug: 'not-found',
    title: 'Not Found',
    status: 404,
    detail: `There is no ${request.method} ${request.url.split('?')[0]}.`,
  });
}
