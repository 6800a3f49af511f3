/** What happens to a key when its claimant completes with a status. */
export const Outcome = {
  /** Store the response; every retry with the key replays it. */
  Store: 'store',
  /** Free the key (keeping the checkpoint); a retry claims it and resumes. */
  Release: 'release',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** Decides from a response status whether the key is used up or given back. */
export type OutcomePolicy = (status: number) => Outcome;

/**
 * Statuses that say nothing about the request itself, only about this attempt: the caller was
 * not allowed (401, 403), too early or too many (425, 429), too slow (408), or the server failed
 * (5xx). A retry must be able to try again, so these release the key.
 */
const transient = new Set([401, 403, 408, 425, 429]);

/**
 * The default policy: 2xx, 3xx and deterministic 4xx (a decline, a 404, a 422) are stored and
 * replayed; 401/403/408/425/429, 5xx and anything outside 200–499 release the key.
 */
export const defaultOutcomePolicy: OutcomePolicy = (status) =>
  status >= 200 && status < 500 && !transient.has(status) ? Outcome.Store : Outcome.Release;
