/**
 * `tollgate/policies`: one YAML or JSON file states, per route, the idempotency rules (key
 * source, TTL, storage) and the rate limits (scope, limit, window, algorithm, configuration
 * key); `loadPolicies` validates it at start and hands each adapter route its settings.
 * `npx tollgate policies <file>` checks a file and prints its two tables.
 */

export { PolicyDocument } from './policies/document.ts';
export type { Duration } from './policies/duration.ts';
export { PolicyFileError, type PolicyProblem } from './policies/errors.ts';
export { type LoadOptions, loadPolicies, type PolicySource } from './policies/load.ts';
export type { EffectiveLimitRow } from './policies/markdown.ts';
export { type ConfigSources, configOverrides } from './policies/overrides.ts';
export type { RoutePattern } from './policies/route-pattern.ts';
export type { IdempotencyRow, KeyRow, LimitRow, PolicyRows } from './policies/rows.ts';
