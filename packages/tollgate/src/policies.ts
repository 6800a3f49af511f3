/**
 * `tollgate/policies`: one YAML or JSON file states, per route, the idempotency rules (key
 * source, TTL, storage) and the rate limits (scope, limit, window, algorithm, configuration
 * key); `loadPolicies` validates it at start and hands each adapter route its settings.
 * `npx tollgate policies <file>` checks a file and prints its two tables.
 */

export { PolicyDocument } from './policies/document.ts';
export { type Duration, formatDuration, parseDuration } from './policies/duration.ts';
export { describeProblem, PolicyFileError, type PolicyProblem } from './policies/errors.ts';
export { type LoadOptions, loadPolicies, type PolicySource } from './policies/load.ts';
export { type EffectiveLimitRow, policyMarkdown, scopeLabel } from './policies/markdown.ts';
export { type ConfigSources, configOverrides, envNameOf } from './policies/overrides.ts';
export type { RoutePattern } from './policies/route-pattern.ts';
export type { IdempotencyRow, KeyRow, LimitRow, PolicyRows } from './policies/rows.ts';
