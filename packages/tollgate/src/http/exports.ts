/**
 * What `tollgate/fastify` and `tollgate/express` both export, declared once: the settings a
 * route and the adapter take, the exchange a handler reaches, and problem details.
 */
export { limitedAnswer } from './answers.ts';
export { Exchange, type HandlerBegin } from './exchange.ts';
export type { KeySource } from './key-source.ts';
export type {
  GateLogger,
  IdempotencyMode,
  IdempotencyRouteOptions,
  RoutePolicyOptions,
  TollgateOptions,
  TollgateRouteOptions,
} from './options.ts';
export {
  defineProblems,
  type HttpAnswer,
  type Problem,
  type ProblemKind,
  problem,
  problemAnswer,
  problems,
} from './problem.ts';
