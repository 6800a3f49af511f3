import type { FastifyError, FastifyReply } from 'fastify';
import { type Problem, type ProblemKind, problemAnswer } from '../problem.ts';

/**
 * Sends `problem` as `application/problem+json` (its `type` resolved against the problem base),
 * the one way an app's routes and error handler answer a problem.
 */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  const answer = problemAnswer(problem);
  return reply.code(answer.status).type(answer.headers['content-type']!).send(answer.body);
}

/** One failed rule of a schema, as Fastify's validator reports it. */
interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * A schema failure Fastify raised as the problem of `kind` (a 400 such as `invalid-request`),
 * naming every field at fault as a JSON pointer (`/amount`, `/metadata/k`) in `errors`;
 * `undefined` for any other error.
 */
export function schemaProblem(error: FastifyError, kind: ProblemKind): Problem | undefined {
  if (!error.validation) return undefined;
  const where = error.validationContext ?? 'request';
  return {
    ...kind,
    detail: `The ${where} does not match the schema: ${error.message}`,
    errors: (error.validation as ValidationIssue[]).map((issue) => ({
      in: where,
      field: pointer(issue),
      message: issue.message ?? 'is invalid',
    })),
  };
}

function pointer(issue: ValidationIssue): string {
  const missing = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  return `${issue.instancePath ?? ''}${missing === undefined ? '' : `/${String(missing)}`}` || '/';
}
