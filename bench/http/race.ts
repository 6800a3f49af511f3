/**
 * The race row: for each of `keys` keys, `concurrency` identical `POST /race` requests sent at
 * once over real HTTP (one socket each), then the effect counters read back from Redis. Every
 * loop has a fixed count: `keys × concurrency` requests in all.
 */
import http from 'node:http';
import type { Redis } from 'ioredis';
import { effectKey, paymentBody } from './route.ts';

export interface RaceResult {
  readonly keys: number;
  readonly requestsPerKey: number;
  /** Keys whose effect ran exactly once: what an idempotency layer promises. */
  readonly exactlyOnce: number;
  /** Effects beyond the first, summed over the keys. */
  readonly extraEffects: number;
  /** Keys whose effect never ran (every request refused or failed). */
  readonly withoutEffect: number;
  /** Keys whose successful answers differed between clients (e.g. `effect: 1` and `effect: 2`). */
  readonly divergentAnswers: number;
  /** Answers by status (`error` for a transport failure). */
  readonly statuses: Readonly<Record<string, number>>;
}

interface Answer {
  status: number | 'error';
  body: string;
}

function post(url: URL, key: string, agent: http.Agent): Promise<Answer> {
  return new Promise((resolve) => {
    const request = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/race',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        response.on('error', () => resolve({ status: 'error', body: '' }));
      },
    );
    request.on('error', () => resolve({ status: 'error', body: '' }));
    request.end(paymentBody);
  });
}

/** Races one server; `tag` keeps its keys apart from every other racer's. */
export async function race(
  baseUrl: string,
  redis: Redis,
  tag: string,
  options: { keys: number; concurrency: number },
): Promise<RaceResult> {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const keys = Array.from(
    { length: options.keys },
    (_, k) => `bench-race-${tag}-${String(k).padStart(6, '0')}`,
  );
  const statuses: Record<string, number> = {};
  let divergentAnswers = 0;
  try {
    for (const key of keys) {
      const answers = await Promise.all(
        Array.from({ length: options.concurrency }, () => post(url, key, agent)),
      );
      for (const { status } of answers) statuses[status] = (statuses[status] ?? 0) + 1;
      const bodies = new Set(
        answers.filter((a) => typeof a.status === 'number' && a.status < 300).map((a) => a.body),
      );
      if (bodies.size > 1) divergentAnswers++;
    }
  } finally {
    agent.destroy();
  }
  const counts = (await redis.mget(keys.map(effectKey))).map((count) => Number(count ?? 0));
  return {
    keys: options.keys,
    requestsPerKey: options.concurrency,
    exactlyOnce: counts.filter((count) => count === 1).length,
    extraEffects: counts.reduce((sum, count) => sum + Math.max(0, count - 1), 0),
    withoutEffect: counts.filter((count) => count === 0).length,
    divergentAnswers,
    statuses,
  };
}
