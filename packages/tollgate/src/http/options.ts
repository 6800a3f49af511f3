import type { Registry } from 'prom-client';
import { ErrorCode } from '../codes.ts';
import { TollgateError } from '../errors.ts';
import type { BeginOptions } from '../idempotency/engine.ts';
import type { ClaimOptions } from '../idempotency/options.ts';
import type { OutcomePolicy } from '../idempotency/outcome.ts';
import type { IdempotencyStore } from '../idempotency/store.ts';
import type { HeaderOptions } from '../ratelimit/headers.ts';
import type { PolicyOptions } from '../ratelimit/policy.ts';
import type { RateLimitStore } from '../ratelimit/store.ts';
import type { KeySource } from './key-source.ts';

/**
 * A rate-limit policy as a route (or the adapter, for every route) states it: a
 * {@link PolicyOptions} and what it counts.
 */
export interface RoutePolicyOptions extends PolicyOptions {
  /**
   * `requests` counts every request, replays included. `operations` counts only requests that
   * run the handler: a replay of a completed idempotency key, a mismatch or a conflict costs
   * nothing. Both are decided together, all-or-nothing, in the request's one admission.
   * A policy keyed by neither `principal` nor `ip` (one counter every caller shares) never
   * counts a request without a principal, when the gate has a `principal` function.
   * Counters are keyed by policy name and subject: routes sharing a name share its counters.
   * @default 'operations' when the subject includes 'principal', else 'requests'
   */
  counts?: 'requests' | 'operations';
}

/** How a route treats the idempotency key. */
export type IdempotencyMode = 'required' | 'optional' | 'off';

/** Idempotency settings a route may choose; each falls back to the plugin's, then to the default. */
export interface IdempotencyRouteOptions extends ClaimOptions {
  /**
   * `required` answers 400 without a key; `optional` runs a request without one unprotected.
   * @default 'required'
   */
  readonly mode?: 'required' | 'optional';
  /**
   * The status for a key reused with a different request.
   * @default 422
   */
  readonly mismatchStatus?: 422 | 409;
  /**
   * JSON body members left out of the fingerprint, as dotted paths (`metadata.trace_id`).
   * @default []
   */
  readonly exclude?: readonly string[];
  /**
   * Where the key is: a request header, or a body field by dotted path (a webhook's
   * `invoice_payload`). Body keys may be any 1–255 characters; they are only ever hashed.
   * @default { header: 'idempotency-key' }
   */
  readonly key?: KeySource;
  /**
   * Who claims the key. `adapter`: the adapter claims before the handler and completes with
   * the captured response. `handler`: the adapter still limits, parses the key and answers
   * bad keys, but the claim waits for the handler to call `exchange.begin({ store })` — e.g.
   * inside its own transaction with `store.within(tx)` — which answers replays, conflicts and
   * mismatches as usual; the handler then completes the claim itself (in a later transaction
   * if it likes) and clears `exchange.claim`. A claim still held when the response is sent is
   * completed with it, as in `adapter` mode. A handler that never calls `begin` claims nothing.
   * @default 'adapter'
   */
  readonly claim?: 'adapter' | 'handler';
  /**
   * Where this route's keys live, when not in the plugin's `idempotencyStore`: e.g. a tiered
   * store over the database whose transactions the handler claims in, beside Redis-only keys
   * for other routes. The route's admission reads this store's keys (or replay cache).
   * @default the plugin's idempotencyStore
   */
  readonly store?: IdempotencyStore;
}

/** What a route states in `config.tollgate` (Fastify) or passes to the middleware (Express). */
export interface TollgateRouteOptions {
  /** Policies of this route, checked with the plugin's in the same round trip. @default [] */
  readonly policies?: readonly RoutePolicyOptions[];
  /**
   * `'required'`, `'optional'`, `'off'`, or the settings of a protected route (`mode` defaults
   * to `required` then).
   * @default 'off'
   */
  readonly idempotency?: IdempotencyMode | IdempotencyRouteOptions;
  /** Units one request consumes from every policy. @default 1 */
  readonly cost?: number;
}

/**
 * Per-route settings from a policy file (a `PolicyDocument` from `tollgate/policies`): the
 * adapters take each route's settings from it by its template, and refuse to start when the
 * file names a route the app never registered.
 */
export interface RouteSettingsSource {
  /** The settings of a registered route (`'POST'`, `'/api/votes'`), or undefined. */
  routeOptions(method: string, template: string): TollgateRouteOptions | undefined;
  /** The file's routes that match none of `registered` (`'POST /api/votes'` each). */
  unmatchedRoutes(registered: Iterable<string>): string[];
}

/** A pino-compatible logger; tollgate logs decisions with fields, never raw keys. */
export interface GateLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** Everything both adapters are configured with, once. `Req` is the framework's request. */
export interface TollgateOptions<Req> {
  /** Where counters live. @default new MemoryRateLimitStore() */
  readonly rateLimitStore?: RateLimitStore;
  /** Where idempotency records live. @default new MemoryIdempotencyStore() */
  readonly idempotencyStore?: IdempotencyStore;
  /**
   * A loaded policy file (`loadPolicies` from `tollgate/policies`): every route it names takes
   * its idempotency and limits from it, under what the route states itself.
   * @default none
   */
  readonly document?: RouteSettingsSource;
  /** Policies every protected route counts (global, per-IP, per-principal). @default [] */
  readonly policies?: readonly RoutePolicyOptions[];
  /**
   * The authenticated caller of a request, from the app's own authentication: it scopes
   * idempotency keys (one principal never replays another's response) and feeds `principal`
   * subjects. `undefined` is an anonymous caller: it counts only against policies keyed by what
   * it controls (its IP), never against one every caller shares. Without this function every
   * request is anonymous and shared policies count them all.
   * @default none
   */
  readonly principal?: (request: Req) => string | undefined | Promise<string | undefined>;
  /** Idempotency defaults for every route, plus what only the engine can hold. @default {} */
  readonly idempotency?: Omit<IdempotencyRouteOptions, 'mode' | 'store'> & {
    /** Response headers stored and replayed. @default DEFAULT_REPLAY_HEADERS */
    readonly replayHeaders?: readonly string[];
    /** Which statuses use a key up. @default defaultOutcomePolicy */
    readonly outcome?: OutcomePolicy;
  };
  /** Which rate-limit headers to send. @default { draft: true, legacy: true } */
  readonly headers?: HeaderOptions;
  /** Deadline of every admission (and rate-limit) store call, in ms. @default 100 */
  readonly storeTimeoutMs?: number;
  /** A prom-client registry to publish `tollgate_http_*` metrics in. @default none */
  readonly metrics?: Registry;
}

/** A route's idempotency settings with every default applied (the one place they meet). */
export interface IdempotencySettings {
  readonly mode: 'required' | 'optional';
  readonly mismatchStatus: 422 | 409;
  readonly exclude: readonly string[];
  readonly key: KeySource;
  readonly claim: 'adapter' | 'handler';
  /** The engine's per-call options: the route's own claim timings, and its own store if it has one. */
  readonly engine: BeginOptions;
}

const defaultKey: KeySource = { header: 'idempotency-key' };

/** The route's idempotency settings over the plugin's, over the defaults; undefined when off. */
export function idempotencySettings(
  plugin: TollgateOptions<unknown>['idempotency'] = {},
  route: TollgateRouteOptions['idempotency'] = 'off',
): IdempotencySettings | undefined {
  if (route === 'off') return undefined;
  const own: IdempotencyRouteOptions = typeof route === 'string' ? { mode: route } : route;
  const pick = <K extends 'mismatchStatus' | 'exclude' | 'key' | 'claim'>(name: K) =>
    own[name] ?? plugin[name];
  const mode = oneOf('mode', own.mode ?? 'required', ['required', 'optional'] as const);
  return {
    mode,
    mismatchStatus: oneOf('mismatchStatus', pick('mismatchStatus') ?? 422, [422, 409] as const),
    exclude: checkedExclude(pick('exclude') ?? []),
    key: checkedKey(pick('key') ?? defaultKey),
    claim: oneOf('claim', pick('claim') ?? 'adapter', ['adapter', 'handler'] as const),
    // The claim timings (lease, TTL, wait…): the engine puts them over the plugin's it holds.
    engine: own,
  };
}

/** Whether a policy counts every request or only those that run the handler (see {@link RoutePolicyOptions.counts}). */
export function countsOf(policy: RoutePolicyOptions): 'requests' | 'operations' {
  return policy.counts ?? (policy.subject?.includes('principal') ? 'operations' : 'requests');
}

/** A route's own settings over the policy file's (each field the route states wins; policies add up). */
export function routeSettingsOf(
  fromFile: TollgateRouteOptions | undefined,
  own: TollgateRouteOptions | undefined,
): TollgateRouteOptions | undefined {
  if (fromFile === undefined) return own;
  if (own === undefined) return fromFile;
  return {
    ...fromFile,
    ...own,
    policies: [...(fromFile.policies ?? []), ...(own.policies ?? [])],
  };
}

/** The error an adapter fails with when a policy file names routes the app does not have. */
export function unknownRoutesError(routes: readonly string[]): Error {
  return new TollgateError(
    ErrorCode.PolicyRoutes,
    `the policy file names routes this app does not register: ${routes.join(', ')}. Register them, or remove them from the file.`,
  );
}

/** `value` if it is one of `allowed`; a configuration error naming the option otherwise. */
function oneOf<T extends string | number>(name: string, value: unknown, allowed: readonly T[]): T {
  if (allowed.includes(value as T)) return value as T;
  throw new TollgateError(
    ErrorCode.OptionInvalid,
    `idempotency ${name} must be one of ${allowed.map((one) => JSON.stringify(one)).join(', ')}; got ${JSON.stringify(value)}`,
  );
}

/** Dotted paths of JSON members (`metadata.trace_id`); a lone string would be read letter by letter. */
function checkedExclude(exclude: unknown): readonly string[] {
  if (Array.isArray(exclude) && exclude.every((path) => typeof path === 'string' && path !== ''))
    return exclude;
  throw new TollgateError(
    ErrorCode.OptionInvalid,
    `idempotency exclude must be a list of dotted paths (["metadata.trace_id"]); got ${JSON.stringify(exclude)}`,
  );
}

/** `{ header, generate? }` (the name taken in lower case, as Node gives headers) or `{ body }`. */
function checkedKey(key: unknown): KeySource {
  const source = key as Partial<Record<'header' | 'body' | 'generate', unknown>> | null;
  if (typeof source?.header === 'string' && source.header !== '' && source.body === undefined) {
    if (source.generate !== undefined && typeof source.generate !== 'boolean') {
      throw new TollgateError(ErrorCode.OptionInvalid, 'idempotency key.generate must be true or false');
    }
    return { header: source.header.toLowerCase(), ...(source.generate === true && { generate: true }) };
  }
  if (typeof source?.body === 'string' && source.body !== '' && source.header === undefined)
    return { body: source.body };
  throw new TollgateError(
    ErrorCode.OptionInvalid,
    `idempotency key must be { header: "<name>" } (with generate: true to make missing keys) or { body: "<dotted.path>" }; got ${JSON.stringify(key)}`,
  );
}
