import { ErrorCode } from '../codes.ts';
import type { AttemptEnded } from './attempt.ts';

/** Statuses that mean "try again later". Every other status is final. */
export const RETRYABLE_STATUSES = [408, 409, 429, 500, 502, 503, 504] as const;
/** A status in {@link RETRYABLE_STATUSES}. */
export type RetryableStatus = (typeof RETRYABLE_STATUSES)[number];

/** Why an attempt is repeated: the label of the retries metric. */
export type RetryReason = 'connect' | 'connection_lost' | 'timeout' | `status_${RetryableStatus}`;

/** Methods whose repetition has the effect of one call (RFC 9110 §9.2.2). */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** What the request is, as far as repeating it goes. */
export interface RequestTraits {
  readonly method: string;
  /** The request carries an Idempotency-Key: the server will replay, not repeat. */
  readonly keyed: boolean;
}

/** What to do with an attempt's outcome, as far as repeating it goes. */
export type RetryDecision =
  /** A final response: hand it to the caller. */
  | { readonly kind: 'final' }
  | { readonly kind: 'retry'; readonly reason: RetryReason }
  /** It failed, and repeating it could repeat its effect. */
  | { readonly kind: 'unsafe' };

/**
 * Whether an attempt may be repeated. A request that never left is always repeated; one the
 * server may have processed only if it is keyed or idempotent. 408 and 429 say the server did
 * no work; 409 means "same key still in flight" only when the request has a key.
 */
export function decideRetry(outcome: AttemptEnded, request: RequestTraits): RetryDecision {
  const repeatable = request.keyed || IDEMPOTENT_METHODS.has(request.method);
  if (outcome.kind === 'failure') {
    if (!outcome.sent) return { kind: 'retry', reason: 'connect' };
    if (!repeatable) return { kind: 'unsafe' };
    return {
      kind: 'retry',
      reason: outcome.code === ErrorCode.RetryAttemptTimeout ? 'timeout' : 'connection_lost',
    };
  }
  const status = outcome.response.status;
  switch (status) {
    case 408:
    case 429:
      return { kind: 'retry', reason: `status_${status}` };
    case 409:
      return request.keyed ? { kind: 'retry', reason: 'status_409' } : { kind: 'final' };
    case 500:
    case 502:
    case 503:
    case 504:
      return repeatable ? { kind: 'retry', reason: `status_${status}` } : { kind: 'final' };
    default:
      return { kind: 'final' };
  }
}

/** Whether an outcome counts against the host's health (breaker): 5xx and transport failures. */
export function hostFailed(outcome: AttemptEnded): boolean {
  return outcome.kind === 'failure' || outcome.response.status >= 500;
}
