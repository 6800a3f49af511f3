/**
 * `tollgate/fastify`: the Fastify plugin. Register it once with stores and defaults; each route
 * states its policies and idempotency in `config.tollgate`.
 */

export * from './http/exports.ts';
export { type ConnectionOptions, connectionOptions } from './http/fastify/connections.ts';
export { type FastifyTollgateOptions, tollgate, tollgate as default } from './http/fastify/plugin.ts';
export { schemaProblem, sendProblem } from './http/fastify/problem-reply.ts';
