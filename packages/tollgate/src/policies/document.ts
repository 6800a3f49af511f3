import type { KeySource } from '../http/key-source.ts';
import type { IdempotencyRouteOptions, RoutePolicyOptions, TollgateRouteOptions } from '../http/options.ts';
import { configKeysOf, policyOptionsOf } from './limit-rows.ts';
import { type EffectiveLimitRow, policyMarkdown } from './markdown.ts';
import { routeMatches } from './route-pattern.ts';
import type { IdempotencyRow, PolicyRows } from './rows.ts';

/**
 * A validated policy file with configuration values applied: what each registered route
 * gets, and the file's two tables for people. Built by `loadPolicies`.
 */
export class PolicyDocument {
  /** The file's rows as read (limits before configuration values). */
  readonly rows: PolicyRows;
  /** Each limit row with the limit in force. */
  readonly limits: readonly EffectiveLimitRow[];

  constructor(rows: PolicyRows, effectiveLimits: readonly number[]) {
    this.rows = rows;
    this.limits = rows.limits.map((row, index) => ({ row, limit: effectiveLimits[index] ?? row.limit }));
  }

  /**
   * The adapter settings of a registered route (`'POST'`, `'/api/votes/:id'`): its idempotency
   * row and every limit naming it exactly or by a `*` prefix, each limit once per name.
   * `undefined` when the file says nothing of the route.
   */
  routeOptions(method: string, template: string): TollgateRouteOptions | undefined {
    const idempotency = this.rows.idempotency.find((row) => routeMatches(row.route, method, template));
    const policies: RoutePolicyOptions[] = [];
    for (const { row, limit } of this.limits) {
      if (!row.routes.some((route) => routeMatches(route, method, template))) continue;
      if (policies.some((policy) => policy.name === row.name)) continue;
      policies.push({ ...policyOptionsOf(row, limit), counts: row.counts });
    }
    if (idempotency === undefined && policies.length === 0) return undefined;
    return {
      policies,
      ...(idempotency === undefined ? {} : { idempotency: idempotencyOptions(idempotency) }),
    };
  }

  /** Every route the file names, as written, once each, in file order. */
  routes(): string[] {
    const all = [
      ...this.rows.idempotency.map((row) => row.route.text),
      ...this.rows.limits.flatMap((row) => row.routes.map((route) => route.text)),
    ];
    return [...new Set(all)];
  }

  /**
   * The routes of the file that match none of `registered` (`'POST /api/votes'` each): a
   * misspelt route, or a `*` prefix over nothing. An adapter refuses to start with any.
   */
  unmatchedRoutes(registered: Iterable<string>): string[] {
    const known = [...registered].map((route) => {
      const space = route.indexOf(' ');
      return { method: route.slice(0, space), template: route.slice(space + 1).trim() };
    });
    const patterns = [
      ...this.rows.idempotency.map((row) => row.route),
      ...this.rows.limits.flatMap((row) => row.routes),
    ];
    const unmatched = patterns.filter(
      (pattern) => !known.some(({ method, template }) => routeMatches(pattern, method, template)),
    );
    return [...new Set(unmatched.map((pattern) => pattern.text))];
  }

  /** The configuration keys the file names, once each. */
  configKeys(): string[] {
    return configKeysOf(this.rows.limits);
  }

  /** The file's two tables in Markdown, with the limits in force (see `policyMarkdown`). */
  markdown(): string {
    return policyMarkdown(this.rows.idempotency, this.limits);
  }
}

function idempotencyOptions(row: IdempotencyRow): IdempotencyRouteOptions {
  return {
    mode: row.required ? 'required' : 'optional',
    key: keySourceOf(row),
    ttlMs: row.ttl.ms,
    ...(row.lease === undefined ? {} : { leaseMs: row.lease.ms }),
    ...(row.mismatchStatus === undefined ? {} : { mismatchStatus: row.mismatchStatus }),
    ...(row.exclude.length === 0 ? {} : { exclude: row.exclude }),
  };
}

function keySourceOf(row: IdempotencyRow): KeySource {
  const { key } = row;
  if (key.kind === 'body') return { body: key.path };
  const header = key.name.toLowerCase();
  // `generate`: the adapters derive a key from principal + method + route + canonical body.
  return key.generated ? { header, generate: true } : { header };
}
