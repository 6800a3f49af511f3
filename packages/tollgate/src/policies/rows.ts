import type { AlgorithmName } from '../ratelimit/algorithm.ts';
import type { Subject } from '../ratelimit/policy.ts';
import type { Duration } from './duration.ts';
import type { RoutePattern } from './route-pattern.ts';

/**
 * Where an idempotency row finds its key: a header (`generated`: optional, and derived by the
 * server from the principal and the canonical request when absent), or a body field.
 */
export type KeyRow =
  | { readonly kind: 'header'; readonly name: string; readonly generated: boolean }
  | { readonly kind: 'body'; readonly path: string; readonly label: string };

/** One row of the file's `idempotency` table, validated, defaults applied. */
export interface IdempotencyRow {
  readonly route: RoutePattern;
  readonly key: KeyRow;
  readonly required: boolean;
  /** Free text for the Storage column. */
  readonly storage: string | undefined;
  readonly ttl: Duration;
  readonly lease: Duration | undefined;
  readonly mismatchStatus: 422 | 409 | undefined;
  readonly exclude: readonly string[];
  readonly notes: string | undefined;
}

/** One row of the file's `limits` table, validated, defaults applied, overrides not yet. */
export interface LimitRow {
  readonly name: string;
  readonly subject: Subject;
  /** The Scope column as the file words it, when it does. */
  readonly label: string | undefined;
  readonly routes: readonly RoutePattern[];
  readonly limit: number;
  readonly window: Duration;
  readonly algorithm: AlgorithmName;
  readonly burst: number | undefined;
  readonly mode: 'enforce' | 'shadow';
  readonly counts: 'requests' | 'operations';
  readonly onStoreError: 'open' | 'closed' | undefined;
  /** The configuration key whose value, when set, replaces `limit`. */
  readonly configKey: string | undefined;
}

/** A whole file, validated. */
export interface PolicyRows {
  readonly idempotency: readonly IdempotencyRow[];
  readonly limits: readonly LimitRow[];
}
