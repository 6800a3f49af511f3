/**
 * `tollgate/express`: the Express middleware. Create it once with stores and defaults; each
 * route passes its policies and idempotency settings to it.
 */
export { Exchange, type HandlerBegin } from './http/exchange.ts';
export { type ExpressTollgateOptions, type TollgateMiddleware, tollgate } from './http/express/middleware.ts';
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
