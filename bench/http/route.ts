/**
 * What every server of `bench/http.ts` answers, whatever its framework and protection:
 * - `GET /` → 200 `{"hello":"world"}`;
 * - `POST /pay` → 201 `{"id":"pay_1","status":"succeeded"}`, counting its executions in process;
 * - `POST /race` → 201 `{"effect":n}` after an effect: `INCR` of a Redis counter named after the
 *   request's idempotency key, so the parent counts real handler executions per key;
 * - `GET /bench/handled` → `{"pay":n}`, how often the `POST /pay` handler ran.
 */
import type { Redis } from 'ioredis';

export const hello = { hello: 'world' };
export const payment = { id: 'pay_1', status: 'succeeded' };
export const paymentBody = JSON.stringify({ amount: 1000, currency: 'EUR', customer: 'cus_1' });

/** The Redis key of the effect counter of one idempotency key. */
export const effectKey = (idempotencyKey: string): string => `bench:effect:${idempotencyKey}`;

/** The handlers' side effects: the ones a broken idempotency layer runs more than once. */
export class Effects {
  /** Executions of the `POST /pay` handler in this process. */
  paid = 0;

  constructor(private readonly redis: Redis) {}

  /** The `POST /race` effect: one more execution for this key; answers the count so far. */
  charge(idempotencyKey: unknown): Promise<number> {
    return this.redis.incr(effectKey(String(idempotencyKey)));
  }
}
