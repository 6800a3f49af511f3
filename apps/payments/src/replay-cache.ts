import type { Completion, FenceResult, IdempotencyStore } from 'tollgate/idempotency';
import { TieredIdempotencyStore, type TieredIdempotencyStoreOptions } from 'tollgate/redis';

/**
 * tollgate's tiered store (PostgreSQL decides, Redis replays), except that a completion goes to
 * the truth only. The service completes inside its phase-3 transaction, so copying the
 * response to Redis from `complete` would cache it before that transaction commits; instead
 * the first replay reads the committed record from the truth and refills the cache from it.
 */
export class CommittedReplayCache extends TieredIdempotencyStore {
  private readonly committed: IdempotencyStore;

  constructor(options: TieredIdempotencyStoreOptions) {
    super(options);
    this.committed = options.truth;
  }

  override complete(completion: Completion): Promise<FenceResult> {
    return this.committed.complete(completion);
  }
}
