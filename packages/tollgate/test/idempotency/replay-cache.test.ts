/** The memory replay cache's markers for forgotten keys: a miss, proof against late refills, bounded. */
import { MemoryReplayCache } from 'tollgate/idempotency';
import { describe, expect, it } from 'vitest';
import { ManualClock } from './manual-clock.ts';

const completion = (text: string) => ({
  fingerprint: 'v1:x',
  response: { status: 201, headers: [], body: Buffer.from(text), bodyOmitted: false },
});

describe('MemoryReplayCache after a delete', () => {
  it('reads a forgotten scope as a miss, keeps late refills out for a minute, and takes a new completion', async () => {
    const clock = new ManualClock();
    const cache = new MemoryReplayCache({ clock });
    await cache.set('s', completion('old'), 3_600_000);
    await cache.delete('s');
    expect(await cache.get('s')).toBeNull();
    await cache.refill('s', completion('old'), 3_600_000); // a replay that read the truth before
    expect(await cache.get('s')).toBeNull();
    clock.advance(61_000);
    await cache.refill('s', completion('refilled'), 3_600_000); // the marker is gone: a real miss
    expect(Buffer.from((await cache.get('s'))!.response.body).toString()).toBe('refilled');
    await cache.delete('s');
    await cache.set('s', completion('new'), 3_600_000); // a completion after the forget
    expect(Buffer.from((await cache.get('s'))!.response.body).toString()).toBe('new');
  });

  it('counts markers against maxBytes, so forgetting many keys cannot grow it without bound', async () => {
    const cache = new MemoryReplayCache({ maxBytes: 100_000 });
    await cache.set('kept', completion('x'), 3_600_000);
    for (let i = 0; i < 100_000; i++) await cache.delete(`scope-${i}`);
    const held = (cache as unknown as { entries: Map<string, unknown> }).entries.size;
    expect(held).toBeLessThan(2_000); // was 100,001: markers weighed nothing
    expect(await cache.get('kept')).toBeNull(); // the oldest went first
  });
});
