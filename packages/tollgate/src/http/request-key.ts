/**
 * The key step of a protected route: the request's idempotency key, read from where the route
 * says (or made from the request itself), its fingerprint and its scope — or the 400 problem
 * for a key or body that cannot be used.
 */
import { hash } from 'node:crypto';
import { ErrorCode } from '../codes.ts';
import { type FingerprintBody, tryFingerprint } from '../idempotency/fingerprint.ts';
import { scopeHash } from '../idempotency/scope.ts';
import type { Exchange, KeyedRequest } from './exchange.ts';
import { readKey } from './key-source.ts';
import type { IdempotencySettings } from './options.ts';
import { type Problem, problem, problems } from './problem.ts';

/** The request as a route gate reads it. */
export interface AdmitRequest {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The parsed body (JSON), a string or bytes; undefined without one. */
  readonly body: unknown;
  /** The route's path parameters (for `param:` subjects). */
  readonly params?: Readonly<Record<string, string | undefined>>;
}

/** The key and fingerprint of the request, or the problem (400) of a bad key or body. */
export function requestKey(
  exchange: Exchange,
  settings: IdempotencySettings,
  request: AdmitRequest,
): KeyedRequest | Problem {
  const parsed = readKey(settings.key, request.headers, request.body);
  const missing = !parsed.ok && parsed.error.code === ErrorCode.IdempotencyKeyMissing;
  const generate = missing && generates(settings);
  if (!parsed.ok && !generate) {
    if (missing && settings.mode === 'optional')
      return { key: undefined, scope: '', fingerprint: '', generated: false };
    const kind = missing ? problems['idempotency-key-missing'] : problems['idempotency-key-malformed'];
    return problem(kind, parsed.error.message);
  }
  const { method, path: route } = exchange;
  const printed = tryFingerprint(
    { method, route, body: fingerprintBody(request.body), ...(request.params && { params: request.params }) },
    { exclude: settings.exclude },
  );
  if (!printed.ok) {
    const { code, message, pointer } = printed.error;
    return problem(problems['invalid-body'], message, { code, pointer });
  }
  const print = printed.fingerprint;
  // A generated key is the request itself: identical requests of one principal share it. The
  // client may send it back as its own; it is still the server's key for that request.
  const derived =
    generate || (parsed.ok && generates(settings)) ? hash('sha256', print, 'base64url') : undefined;
  const key = parsed.ok ? parsed.key : derived!;
  const scope = scopeHash({ principal: exchange.principal ?? '', method, route }, key);
  return { key, scope, fingerprint: print, generated: key === derived };
}

/** The route makes a key for a request without one (`{ header, generate: true }`). */
function generates(settings: IdempotencySettings): boolean {
  return 'header' in settings.key && settings.key.generate === true;
}

/** A parsed JSON body is fingerprinted canonically; text and bytes exactly. */
function fingerprintBody(body: unknown): FingerprintBody | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return { bytes: body };
  return { json: body };
}
