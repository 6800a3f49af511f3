/** Idempotency options a route cannot work with are refused when the route is registered. */
import Fastify from 'fastify';
import { tollgate } from 'tollgate/fastify';
import { RedisIdempotencyStore } from 'tollgate/redis';
import { describe, expect, it } from 'vitest';

describe('route idempotency options', () => {
  it.each([
    ['a mode with a typo', { mode: 'requird' }, /mode must be one of "required", "optional"/],
    ['a mismatch status other than 422 or 409', { mismatchStatus: 400 }, /mismatchStatus/],
    ['an unknown claim', { claim: 'route' }, /claim must be one of "adapter", "handler"/],
    ['a lease of 0 (every retry would run again)', { leaseMs: 0 }, /leaseMs must be an integer/],
    ['a TTL that is not a number', { ttlMs: Number.NaN }, /ttlMs must be an integer/],
    ['a key source with a typo', { key: { heder: 'x-key' } }, /idempotency key must be \{ header/],
    ['a key source with both', { key: { header: 'x-key', body: 'id' } }, /idempotency key must be/],
    ['exclude as one string (read letter by letter)', { exclude: 'metadata' }, /exclude must be a list/],
    ['exclude with a number', { exclude: [123] }, /exclude must be a list/],
  ])('refuses %s', async (_name, idempotency, message) => {
    const app = Fastify();
    await app.register(tollgate);
    expect(() =>
      app.post('/pay', { config: { tollgate: { idempotency: idempotency as never } } }, async () => 'ok'),
    ).toThrow(message);
    await app.close();
  });

  it('reads a key header named in any case (Node gives header names in lower case)', async () => {
    const app = Fastify();
    await app.register(tollgate);
    let runs = 0;
    app.post(
      '/pay',
      { config: { tollgate: { idempotency: { key: { header: 'X-Idempotency-Key' } } } } },
      async () => ({ run: ++runs }),
    );
    const pay = () =>
      app.inject({
        method: 'POST',
        url: '/pay',
        payload: { a: 1 },
        headers: { 'x-idempotency-key': 'case-key-0000000001' },
      });
    expect((await pay()).statusCode).toBe(200);
    expect((await pay()).headers['idempotent-replayed']).toBe('true');
    expect(runs).toBe(1);
    await app.close();
  });

  it('refuses a Redis idempotency store deadline that cannot work', () => {
    for (const timeoutMs of [0, -1, Number.NaN, 1e12, 2.5]) {
      expect(() => new RedisIdempotencyStore({ redis: {} as never, timeoutMs })).toThrow(
        expect.objectContaining({ code: 'ERR_OPTION_INVALID' }),
      );
    }
  });

  it('refuses plugin-wide timings that cannot work when the plugin starts', async () => {
    const app = Fastify();
    await expect(app.register(tollgate, { idempotency: { leaseMs: -1 } })).rejects.toMatchObject({
      code: 'ERR_OPTION_INVALID',
    });
  });
});
