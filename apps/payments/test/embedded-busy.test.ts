/**
 * The embedded default runs PGlite in a worker thread and answers replays of completed keys from
 * memory: over a real port, a replay is answered while PGlite is busy — a statement running in
 * the worker, or a transaction holding PGlite's one connection — and a new payment waits for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKey, pay, type RunningService, scratchDir, startService } from './service.ts';

describe('the embedded default while PGlite is busy', () => {
  let service: RunningService;
  let dispose: () => void;

  beforeAll(async () => {
    const dir = scratchDir();
    dispose = dir.dispose;
    service = await startService({ DATA_DIR: dir.path, API_KEYS: 'key-alice:alice' });
  });
  afterAll(async () => {
    await service.close();
    dispose();
  });

  it('answers a replay while a long statement runs in the PGlite worker (the event loop stays free)', async () => {
    const key = newKey();
    const created = await pay(service.url, { key });
    expect(created.status).toBe(201);

    const order: string[] = [];
    // PGlite sleeps inside the worker: on the main thread this would block every request.
    const sleeping = service.services.database
      .query('SELECT pg_sleep(1.5)')
      .then(() => order.push('statement done'));
    const replay = await pay(service.url, { key });
    order.push('replay answered');
    await sleeping;

    expect([replay.status, replay.text, replay.headers.get('idempotent-replayed')]).toEqual([
      201,
      created.text,
      'true',
    ]);
    expect(order).toEqual(['replay answered', 'statement done']);
  });

  it('answers a replay while a transaction holds PGlite, and a new payment waits for it', async () => {
    const key = newKey();
    const created = await pay(service.url, { key });
    expect(created.status).toBe(201);

    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding!: () => void;
    const held = new Promise<void>((resolve) => {
      holding = resolve;
    });
    // An open transaction is PGlite's one connection: no other statement runs until it ends.
    const transaction = service.services.database.transaction(async (tx) => {
      await tx.query('SELECT 1');
      holding();
      await released;
    });
    await held;

    const order: string[] = [];
    const fresh = pay(service.url, { key: newKey() }).then((answer) => {
      order.push('new payment answered');
      return answer;
    });
    const replay = await pay(service.url, { key });
    order.push('replay answered');
    expect([replay.status, replay.text, replay.headers.get('idempotent-replayed')]).toEqual([
      201,
      created.text,
      'true',
    ]);

    release();
    await transaction;
    expect((await fresh).status).toBe(201);
    expect(order).toEqual(['replay answered', 'new payment answered']);
  });
});
