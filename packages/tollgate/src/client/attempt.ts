import { ErrorCode } from '../codes.ts';
import type { AttemptResult } from './errors.ts';

/** How one attempt ended. */
export type AttemptOutcome =
  | { readonly kind: 'response'; readonly response: Response }
  /** No response. `sent` is false only when the request provably never left (connect failed). */
  | { readonly kind: 'failure'; readonly cause: unknown; readonly code: string; readonly sent: boolean }
  /** The caller's signal fired. */
  | { readonly kind: 'aborted'; readonly cause: unknown };

/** An attempt that ended with a response or a failure: one the retry loop decides on. */
export type AttemptEnded = Exclude<AttemptOutcome, { kind: 'aborted' }>;

/** Errors raised before a single byte of the request was written: always safe to repeat. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The code of a transport error that carries none. */
const UNKNOWN_TRANSPORT_ERROR = 'UNKNOWN';

class AttemptTimeout extends Error {
  readonly code = ErrorCode.RetryAttemptTimeout;
}

/**
 * Sends one attempt of `request` (cloned, so the body can be sent again) with its own timeout.
 * The timeout covers the wait for the response head; the body is the caller's to read.
 */
export async function sendAttempt(
  fetchImpl: typeof fetch,
  request: Request,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<AttemptOutcome> {
  const timer = new AbortController();
  const expiry = setTimeout(
    () => timer.abort(new AttemptTimeout(`no response within ${timeoutMs} ms`)),
    timeoutMs,
  );
  const attemptSignal = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
  try {
    return { kind: 'response', response: await fetchImpl(request.clone(), { signal: attemptSignal }) };
  } catch (cause) {
    if (signal?.aborted) return { kind: 'aborted', cause: signal.reason };
    if (timer.signal.aborted)
      return { kind: 'failure', cause: timer.signal.reason, code: ErrorCode.RetryAttemptTimeout, sent: true };
    const code = errorCode(cause);
    return { kind: 'failure', cause, code, sent: !NOT_SENT.has(code) };
  } finally {
    clearTimeout(expiry);
  }
}

/** What the attempt history keeps of an outcome: the status, or the error code. */
export function summarize(outcome: AttemptEnded): AttemptResult {
  return outcome.kind === 'response'
    ? { kind: 'response', status: outcome.response.status }
    : { kind: 'error', code: outcome.code, sent: outcome.sent };
}

/** The first `code` in the cause chain (undici wraps socket errors in `TypeError: fetch failed`). */
function errorCode(error: unknown): string {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    current = cause;
  }
  return UNKNOWN_TRANSPORT_ERROR;
}
