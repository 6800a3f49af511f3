/** The states an idempotency record moves through; stores persist exactly these strings. */
export const RecordState = {
  /** A claimant holds the key under a lease; its fence authorises every write. */
  InFlight: 'in-flight',
  /** The last claimant gave the key back (5xx, 401/403/429, validation); a retry may claim it. */
  Released: 'released',
  /** The response is stored; every later request with the key replays it until the TTL ends. */
  Completed: 'completed',
} as const;
export type RecordState = (typeof RecordState)[keyof typeof RecordState];

/** Any value JSON can carry: what a checkpoint may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A recovery point: the last phase a claimant finished, with what the next claimant needs to
 * resume from it (e.g. the id of a charge created at the payment processor).
 */
export interface Checkpoint {
  readonly name: string;
  readonly data: JsonValue;
}

/** A response as stored for replay: only allow-listed headers, the body as exact bytes. */
export interface StoredResponse {
  readonly status: number;
  /** Lower-case header names with their values, in the order they were captured. */
  readonly headers: readonly (readonly [name: string, value: string])[];
  readonly body: Uint8Array;
  /**
   * True when the captured body was larger than the route's cap: the key is still completed
   * (the effect never runs twice) but `body` is empty and a replay says so.
   */
  readonly bodyOmitted: boolean;
}

/** What a store tells the engine about a record it could not claim. */
export interface RecordView {
  readonly state: RecordState;
  readonly fingerprint: string;
  /** Milliseconds left on the current lease by the store's own clock; 0 when it has ended. */
  readonly leaseRemainingMs: number;
  /** Milliseconds until the record expires by the store's clock. */
  readonly expiresInMs: number;
  /** Set exactly when `state` is `completed`. */
  readonly response: StoredResponse | null;
}
