import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_TYPE_BASE } from 'tollgate/fastify';

/** A problem the service answers: RFC 9457 members plus snake_case extension members. */
export interface ServiceProblem {
  /** The slug after {@link PROBLEM_TYPE_BASE}, e.g. `insufficient-funds`. */
  readonly slug: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly [member: string]: unknown;
}

/** The media type of every problem. */
export const PROBLEM_JSON = 'application/problem+json';

/** The bytes of `problem` as `application/problem+json` (what a stored outcome keeps). */
export function problemBody(problem: ServiceProblem): string {
  const { slug, ...members } = problem;
  return JSON.stringify({ type: PROBLEM_TYPE_BASE + slug, ...members });
}

/** Sends `problem` as `application/problem+json`. */
export function sendProblem(reply: FastifyReply, problem: ServiceProblem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_JSON).send(problemBody(problem));
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function pointer(issue: ValidationIssue): string {
  const missing = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  return `${issue.instancePath ?? ''}${missing === undefined ? '' : `/${String(missing)}`}` || '/';
}

const clientErrors: Record<number, [slug: string, title: string]> = {
  413: ['payload-too-large', 'Payload Too Large'],
  415: ['unsupported-media-type', 'Unsupported Media Type'],
};

/**
 * Every error as a problem: schema failures 400 with `errors`, Fastify's own 4xx (bad JSON,
 * 413, 415) with their status; anything else a 500 that says nothing about internals.
 */
export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
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
    const [slug, title] = clientErrors[status] ?? ['invalid-request', 'Invalid Request'];
    return sendProblem(reply, { slug, title, status, detail: error.message });
  }
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, {
    slug: 'internal-error',
    title: 'Internal Server Error',
    status: 500,
    detail: 'The server failed to answer this request. Retry with the same idempotency key.',
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
