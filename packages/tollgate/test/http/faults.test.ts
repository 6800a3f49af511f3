/**
 * A store fault during the admission never turns into a gift: when the admission could not
 * decide (it failed, and its policies failed open), nothing was consumed, so a replay found
 * afterwards by the truth gives nothing back either.
 */
import Fastify from 'fastify';
import { MemoryRateLimitStore } from 'tollgate';
import { tollgate } from 'tollgate/fastify';
import { describe, expect, it } from 'vitest';

/** A memory store whose next decision fails, as a store call that times out would. */
class FlakyStore extends MemoryRateLimitStore {
  failNext = false;
  override decideNow(...args: Parameters<MemoryRateLimitStore['decideNow']>) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('the store did not answer');
    }
    return super.decideNow(...args);
  }
}

describe('a faulted admission', () => {
  it('refunds nothing it did not consume when the truth finds a replay', async () => {
    const rateLimitStore = new FlakyStore();
    const app = Fastify();
    let runs = 0;
    await app.register(tollgate, { rateLimitStore, principal: () => 'acct_1' });
    app.post(
      '/pay',
      {
        config: {
          tollgate: {
            idempotency: 'required',
            policies: [
              {
                name: 'pay',
                algorithm: 'fixed-window',
                limit: 2,
                windowSeconds: 86_400,
                subject: ['principal'],
              },
            ],
          },
        },
      },
      async (_request, reply) => reply.code(201).send({ run: ++runs }),
    );
    const pay = (key: string) =>
      app.inject({ method: 'POST', url: '/pay', payload: { a: 1 }, headers: { 'idempotency-key': key } });
    try {
      expect((await pay('fault-key-00000001')).statusCode).toBe(201); // 1 of 2 spent
      rateLimitStore.failNext = true;
      const replay = await pay('fault-key-00000001'); // the admission fails open; the truth replays
      expect([replay.statusCode, replay.headers['idempotent-replayed']]).toEqual([201, 'true']);
      expect((await pay('fault-key-00000002')).statusCode).toBe(201); // 2 of 2
      expect((await pay('fault-key-00000003')).statusCode).toBe(429); // the replay gave nothing back
      expect(runs).toBe(2);
    } finally {
      await app.close();
    }
  });
});
