/**
 * `tollgate/fastify`: the Fastify plugin. Register it once with stores and defaults; each route
 * states its policies and idempotency in `config.tollgate`.
 */
export { Exchange, type HandlerBegin } from './http/exchange.ts';
export { type FastifyTollgateOptions, tollgate, tollgate as default } from './http/fastify/plugin.ts';
export { schemaProblem, sendProblem } from './http/fastify/problem-reply.ts';
export type { KeySource } from './http/key-source.ts';
export type {
  GateLogger,
  HttpPolicyOptions,
  IdempotencyMode,
  IdempotencyRouteOptions,
  TollgateOptions,
  TollgateRouteOptions,
} from './http/options.ts';
export {
  defineProblems,
  type HttpAnswer,
  PROBLEM_TYPE_BASE,
  type Problem,
  type ProblemKind,
  type ProblemType,
  problem,
  problemAnswer,
  problems,
} from './http/problem.ts';
