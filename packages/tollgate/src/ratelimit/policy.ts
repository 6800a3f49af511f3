import { ErrorCode } from '../codes.ts';
import { valueAt } from '../dotted-path.ts';
import { TollgateError } from '../errors.ts';
import { type AlgorithmName, algorithmNames, type Limits } from './algorithm.ts';

/** The units a request consumes when it gives no `cost`. */
export const DEFAULT_COST = 1;

/** What a rate-limit subject can be built from. */
export interface RequestFacts {
  /** The client address. */
  readonly ip?: string | undefined;
  /** The authenticated caller (account, API key owner…). */
  readonly principal?: string | undefined;
  /** The route template, e.g. `POST /api/v1/payments`, never the raw URL. */
  readonly route?: string | undefined;
  /** The route's path parameters, for `param:<name>` subject parts. */
  readonly params?: Readonly<Record<string, string | undefined>> | undefined;
  /** The parsed JSON body, for `body:<dotted.path>` subject parts. */
  readonly body?: unknown;
}

/**
 * One part of a subject: a fact of the request, a path parameter (`param:streamer_id`) or a
 * string or integer field of the JSON body by dotted path (`body:streamer_id`).
 */
export type SubjectPart = 'principal' | 'ip' | 'route' | `param:${string}` | `body:${string}`;

/**
 * Whom a policy counts: `[]` is one global counter; `['principal']` one per caller;
 * `['principal', 'body:streamer_id']` one per caller and streamer. A request lacking a part
 * the policy needs (no principal before authentication, no such body field) is not counted
 * by that policy.
 */
export type Subject = readonly SubjectPart[];

/** A rate-limit policy as users write it. */
export interface PolicyOptions {
  /** Stable name: it keys the counters and appears in headers and problem bodies. */
  name: string;
  /** How units are counted (see the README's table of algorithms). */
  algorithm: AlgorithmName;
  /** Units admitted per window. */
  limit: number;
  /** The window, in seconds (fractions allowed down to a millisecond). */
  windowSeconds: number;
  /**
   * Capacity for `token-bucket` and `gcra`: how many units may arrive at once.
   * @default limit
   */
  burst?: number;
  /**
   * Whom the policy counts.
   * @default [] (global)
   */
  subject?: Subject;
  /**
   * `shadow` counts and reports but never rejects: a dry run for a new limit.
   * @default 'enforce'
   */
  mode?: 'enforce' | 'shadow';
  /**
   * When the store fails or misses its deadline: `open` admits (reason `store-unavailable`),
   * `closed` rejects.
   * @default 'open'
   */
  onStoreError?: 'open' | 'closed';
}

/** A policy with every default applied and its limits checked. */
export interface Policy extends Limits {
  readonly name: string;
  readonly algorithm: AlgorithmName;
  readonly windowSeconds: number;
  readonly subject: Subject;
  readonly mode: 'enforce' | 'shadow';
  readonly onStoreError: 'open' | 'closed';
}

const subjectOrder: readonly SubjectPart[] = ['principal', 'ip', 'route'];

/** Applies the defaults (the one place they live) and rejects impossible limits. */
export function definePolicy(options: PolicyOptions): Policy {
  const { name, algorithm, limit, windowSeconds } = options;
  const windowMs = Math.round(windowSeconds * 1000);
  const burst = options.burst ?? limit;
  if (options.burst !== undefined && (algorithm === 'fixed-window' || algorithm === 'sliding-window')) {
    throw new TollgateError(
      ErrorCode.PolicyInvalid,
      `policy "${name}": burst applies to token-bucket and gcra only`,
    );
  }
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw new TollgateError(
      ErrorCode.PolicyInvalid,
      `policy name "${name}" must be 1-64 chars of [A-Za-z0-9_.-]`,
    );
  }
  if (!algorithmNames.includes(algorithm)) {
    throw new TollgateError(
      ErrorCode.PolicyInvalid,
      `policy "${name}": algorithm must be one of ${algorithmNames.join(', ')}`,
    );
  }
  for (const [field, value] of [
    ['limit', limit],
    ['burst', burst],
    ['windowSeconds·1000', windowMs],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TollgateError(
        ErrorCode.PolicyInvalid,
        `policy "${name}": ${field} must be a positive integer, got ${value}`,
      );
    }
  }
  const given = options.subject ?? [];
  for (const part of given) {
    if (!subjectOrder.includes(part) && !/^(param|body):[A-Za-z0-9_.-]{1,128}$/.test(part)) {
      throw new TollgateError(
        ErrorCode.PolicyInvalid,
        `policy "${name}": subject part "${part}" must be principal, ip, route, param:<name> or body:<dotted.path>`,
      );
    }
  }
  for (const [field, value, allowed] of [
    ['mode', options.mode, ['enforce', 'shadow']],
    ['onStoreError', options.onStoreError, ['open', 'closed']],
  ] as const) {
    if (value !== undefined && !(allowed as readonly string[]).includes(value)) {
      throw new TollgateError(
        ErrorCode.PolicyInvalid,
        `policy "${name}": ${field} must be ${allowed.map((one) => `"${one}"`).join(' or ')}, got ${JSON.stringify(value)}`,
      );
    }
  }
  // Facts first in a fixed order, then parameters and body fields as given.
  const subject = [
    ...subjectOrder.filter((part) => given.includes(part)),
    ...given.filter((part) => !subjectOrder.includes(part)),
  ];
  return {
    name,
    algorithm,
    limit,
    windowMs,
    windowSeconds: windowMs / 1000,
    burst,
    subject,
    mode: options.mode ?? 'enforce',
    onStoreError: options.onStoreError ?? 'open',
  };
}

/**
 * Which counter of `policy` a request uses: `*` for a global policy, else the subject's
 * values in order, joined by `|` (values are escaped so they cannot forge a separator or
 * close a Redis hash tag). `undefined` when the request lacks a part the policy needs.
 * A single-part subject is the caller's own string, so an in-process store can look it up
 * without building (and hashing) a new string.
 */
export function subjectOf(policy: Policy, facts: RequestFacts): string | undefined {
  const parts = policy.subject;
  if (parts.length === 0) return '*';
  let subject: string | undefined;
  for (const part of parts) {
    const value = factOf(part, facts);
    if (value === undefined || value === '') return undefined;
    const encoded = reserved.test(value) ? value.replace(reservedAll, percentEncode) : value;
    subject = subject === undefined ? encoded : `${subject}|${encoded}`;
  }
  return subject;
}

function factOf(part: SubjectPart, facts: RequestFacts): string | undefined {
  switch (part) {
    case 'principal':
    case 'ip':
    case 'route':
      return facts[part];
  }
  if (part.startsWith('param:')) return facts.params?.[part.slice(6)];
  const value = valueAt(facts.body, part.slice(5));
  if (typeof value === 'string') return value;
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined;
}

const reserved = /[%{}|]/;
const reservedAll = /[%{}|]/g;
const percentEncode = (c: string) => `%${c.charCodeAt(0).toString(16)}`;
