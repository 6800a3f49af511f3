import { MemoryIdempotencyStore } from 'tollgate/idempotency';
import { describeStoreContract } from './contract.ts';
import { ManualClock } from './manual-clock.ts';

describeStoreContract('memory', async () => {
  const clock = new ManualClock();
  return {
    store: new MemoryIdempotencyStore({ clock }),
    elapse: async (ms) => clock.advance(ms),
    shortMs: 1_000,
    expiresItself: false,
    close: async () => undefined,
  };
});
