/** Idempotency options a route cannot work with are refused when the route is registered. */
import Fastify from 'fastify';
import { tollgate } from 'tollgate/fastify';
import { describe, expect, it } from 'vitest';

describe('route idempotency options', () => {
  it.each([
    ['a mode with a typo', { mode: 'requird' }, /mode must be one of "required", "optional"/],
    ['a mismatch status other than 422 or 409', { mismatchStatus: 400 }, /mismatchStatus/],
    ['an unknown claim', { claim: 'route' }, /claim must be one of "adapter", "handler"/],
    ['a lease of 0 (every retry would run again)', { leaseMs: 0 }, /leaseMs must be an integer/],
    ['a TTL that is not a number', { ttlMs: Number.NaN }, /ttlMs must be an integer/],
  ])('refuses %s', async (_name, idempotency, message) => {
    const app = Fastify();
    await app.register(tollgate);
    expect(() =>
      app.post('/pay', { config: { tollgate: { idempotency: idempotency as never } } }, async () => 'ok'),
    ).toThrow(message);
    await app.close();
  });

  it('refuses plugin-wide timings that cannot work when the plugin starts', async () => {
    const app = Fastify();
    await expect(app.register(tollgate, { idempotency: { leaseMs: -1 } })).rejects.toMatchObject({
      code: 'ERR_OPTION_INVALID',
    });
  });
});
