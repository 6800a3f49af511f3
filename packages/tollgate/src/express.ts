/**
 * `tollgate/express`: the Express middleware. Create it once with stores and defaults; each
 * route passes its policies and idempotency settings to it.
 */

export * from './http/exports.ts';
export { type ExpressTollgateOptions, type TollgateMiddleware, tollgate } from './http/express/middleware.ts';
