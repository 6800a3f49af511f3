/** Configuration: defaults, a configured limit in force (file, then environment), refusals. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BearerKeys } from '@tollgate/service-kit/auth';
import { PolicyFileError } from 'tollgate/policies';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRawResponse, rawExchange } from '../../../testkit/raw-http.ts';
import { runUntilExit } from '../../../testkit/service-process.ts';
import { loadConfig } from '../src/config.ts';
import { main, newKey, newStreamer, type RunningService, scratchDir, startService, user } from './service.ts';

describe('configuration', () => {
  const dir = scratchDir();
  afterAll(() => dir.dispose());

  it('defaults: port 8001, data in apps/streamer/data, the seed limits', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(8001);
    expect(config.DATA_DIR).toMatch(/apps\/streamer\/data$/);
    expect(Object.fromEntries(config.policies.limits.map(({ row, limit }) => [row.name, limit]))).toEqual({
      vote: 30,
      'streamer-submit': 5,
      invoice: 3,
      withdraw: 2,
      'worker-batch': 120,
      'telegram-webhook': 100,
    });
  });

  it('refuses bad values, naming them', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ LIMITS_VOTE_PER_MIN: '0' })).toThrow(PolicyFileError);
    expect(() => loadConfig({ LIMITS_VOTE_PER_MIN: '2.5' })).toThrow(/LIMITS_VOTE_PER_MIN/);
    const file = join(dir.path, 'bad.json');
    writeFileSync(file, '{"limits": {"withdrawPerHour": "many"}}');
    expect(() => loadConfig({ STREAMER_CONFIG: file })).toThrow(/limits\.withdrawPerHour/);
    expect(() => loadConfig({ STREAMER_CONFIG: join(dir.path, 'missing.json') })).toThrow(PolicyFileError);
    // A typo in the file would leave the limit it meant at its default: refused, named.
    const typo = join(dir.path, 'typo.json');
    writeFileSync(typo, '{"limits": {"votePerMinute": 50, "withdrawPerHour": 1}}');
    expect(() => loadConfig({ STREAMER_CONFIG: typo })).toThrow(/limits\.votePerMinute/);
    // A secret setWebhook would refuse (so no update would ever match it), and its message keeps it out.
    for (const secret of ['has space', 'x'.repeat(257), 'ключ']) {
      expect(() => loadConfig({ TELEGRAM_WEBHOOK_SECRET: secret })).toThrow(
        /^TELEGRAM_WEBHOOK_SECRET: expected 1–256/,
      );
      expect(() => loadConfig({ TELEGRAM_WEBHOOK_SECRET: secret })).not.toThrow(secret);
    }
    // A credential given empty (`API_KEYS=$KEYS`, `KEYS` unset) is a mistake, not the development value.
    for (const name of ['API_KEYS', 'WORKER_KEYS', 'TELEGRAM_WEBHOOK_SECRET'])
      expect(() => loadConfig({ [name]: '' })).toThrow(new RegExp(`^${name} is set but empty`));
    expect(loadConfig({ PORT: '' }).PORT).toBe(8001); // any other setting given empty: its default
  });

  it('refuses to start as a process with one line naming STREAMER_CONFIG and what in it is wrong', {
    timeout: 30_000,
  }, async () => {
    const typo = join(dir.path, 'typo-start.json');
    writeFileSync(typo, '{"limits": {"votePerMinute": 50}}');
    const { code, stderr } = await runUntilExit(main, {
      DATA_DIR: join(dir.path, 'never'),
      STREAMER_CONFIG: typo,
    });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(
      /^streamer service cannot start: policy file \S+policies\.yaml: 1 problem; limits\.votePerMinute: \(STREAMER_CONFIG \S+typo-start\.json\) sets no configuration key/,
    );
  });

  it('refuses a bearer key listed twice, naming the variable and the pair but never the key', () => {
    for (const variable of ['API_KEYS', 'WORKER_KEYS'])
      expect(() => BearerKeys.parse(variable, 'k-1:alice,k-2:bob,k-1:mallory', 'dev')).toThrow(
        new Error(`${variable}: pair 3 repeats the key of an earlier pair`),
      );
    expect(() => BearerKeys.parse('WORKER_KEYS', ' , ', 'dev')).toThrow(
      'WORKER_KEYS names no key: every request would be refused',
    );
    expect(() => BearerKeys.parse('API_KEYS', 'k1 : alice', 'dev')).toThrow(
      "API_KEYS: pair 1's key can never be sent",
    );
    expect(BearerKeys.parse('API_KEYS', 'k1: alice', 'dev').principalOf('Bearer k1')).toBe('alice');
    const rotated = BearerKeys.parse('API_KEYS', 'old-key:alice,new-key:alice', 'dev');
    expect(rotated.principalOf('Bearer old-key')).toBe('alice');
    expect(rotated.principalOf('Bearer new-key')).toBe('alice');
  });

  describe('a configured value takes effect over a real port', () => {
    let service: RunningService;
    beforeAll(async () => {
      const file = join(dir.path, 'streamer.json');
      writeFileSync(
        file,
        JSON.stringify({ limits: { votePerMin: 50, withdrawPerHour: 1, invoicePer5m: 10 } }),
      );
      service = await startService({
        DATA_DIR: join(dir.path, 'db'),
        STREAMER_CONFIG: file,
        LIMITS_VOTE_PER_MIN: '3', // the environment wins over the file
      });
    });
    afterAll(() => service.close());

    it('limits.votePerMin from the environment, limits.withdrawPerHour from the file', async () => {
      const u1 = user(service.url, 'u1');
      const streamer = await newStreamer(service.url, 'u2');
      // No stars: every vote is a 402, which still spends the limit (the handler ran).
      for (let i = 0; i < 3; i++) {
        const vote = await u1.vote({ streamer_id: streamer, stars: 1 });
        expect([vote.status, vote.headers.get('x-ratelimit-limit')]).toEqual([402, '3']);
      }
      expect((await u1.vote({ streamer_id: streamer, stars: 1 })).status).toBe(429);
      expect((await u1.withdraw({ stars: 1, destination: 'ton:a' }, newKey())).status).toBe(402);
      const second = await u1.withdraw({ stars: 1, destination: 'ton:a' }, newKey());
      expect([second.status, second.headers.get('x-ratelimit-limit')]).toEqual([429, '1']);
    });
  });

  it('bounds requests without a valid key or webhook secret per address (401, then 429); valid keys are untouched', async () => {
    const service = await startService({ DATA_DIR: join(dir.path, 'guessing'), RATE_LIMIT_IP: '3' });
    try {
      const send = (path: string, headers: Record<string, string>, method = 'GET') =>
        fetch(`${service.url}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...headers },
          ...(method === 'POST' && { body: '{}' }),
        });
      const guesses = [
        () => send('/api/wallet', { authorization: 'Bearer guess-1' }),
        () => send('/internal/worker/events', { authorization: 'Bearer guess-2' }, 'POST'),
        () => send('/integrations/telegram/payments', { 'x-telegram-bot-api-secret-token': 'guess' }, 'POST'),
      ];
      for (const [i, guess] of guesses.entries()) {
        const refused = await guess();
        expect([refused.status, refused.headers.get('x-ratelimit-remaining')]).toEqual([401, String(2 - i)]);
      }
      for (const guess of guesses) {
        const limited = await guess();
        const problem = (await limited.json()) as { policies: string[] };
        expect([limited.status, problem.policies]).toEqual([429, ['per-ip']]);
        expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect((await user(service.url, 'u1').wallet()).status).toBe(200); // same address, a valid key
    } finally {
      await service.close();
    }
  });

  it('refuses two Authorization headers (Node reads the first, a proxy may read the last) with 400, paid like a guess', async () => {
    const service = await startService({ DATA_DIR: join(dir.path, 'two-headers'), RATE_LIMIT_IP: '3' });
    try {
      for (const [method, path] of [
        ['GET', '/api/wallet'],
        ['POST', '/internal/worker/events'],
      ]) {
        const twice = parseRawResponse(
          await rawExchange(
            service.url,
            `${method} ${path} HTTP/1.1\r\nHost: x\r\nauthorization: Bearer key-u1\r\nAuthorization: Bearer key-u2\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
          ),
        );
        expect([twice.status, twice.headers['content-type'], twice.body.detail]).toEqual([
          400,
          'application/problem+json; charset=utf-8',
          'Send one Authorization header, not several.',
        ]);
        expect(twice.headers['x-ratelimit-limit']).toBe('3');
      }
      expect((await user(service.url, 'u1').wallet()).status).toBe(200);
    } finally {
      await service.close();
    }
  });
});
