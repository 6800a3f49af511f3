import type { FastifyInstance } from 'fastify';
import { ErrorCode } from 'tollgate';
import { problems } from 'tollgate/fastify';
import { parseIdempotencyKey } from 'tollgate/idempotency';
import { Type } from 'typebox';
import { sendProblem, serviceProblems } from '../problem.ts';
import { AuthHeaders, PaymentRequest } from '../schemas.ts';
import type { Services } from '../services.ts';
import { authenticate } from './authenticate.ts';
import { checkAmount } from './check-amount.ts';
import { openSimulationTarget, type SimulationTarget } from './simulation-target.ts';

/**
 * Bounds of `concurrent_count`, and how long one copy may take before it counts as timed out
 * (`timed_out`, status 504). A caller runs one simulation at a time, so it has at most
 * `max` copies in flight.
 */
export const SIMULATION = { min: 1, max: 50, default: 10, timeoutMs: 10_000 } as const;

/**
 * `POST /api/v1/simulate-concurrent?concurrent_count=N`: sends N copies of the caller's payment
 * (same Authorization, Idempotency-Key and body) at once, over HTTP through the payment
 * route's whole stack (see {@link openSimulationTarget}: the copies count against the caller's
 * own limits only, never `global`), and reports what came back. One simulation per caller at a
 * time (429 otherwise); each copy times out after {@link SIMULATION}`.timeoutMs`.
 */
export function simulateRoute(app: FastifyInstance, services: Services): void {
  const target = openedOnce(() => openSimulationTarget(services, app.log));
  const running = new Set<string>();
  app.addHook('onClose', async () => {
    await (await target.current?.catch(() => undefined))?.close();
  });
  app.post(
    '/api/v1/simulate-concurrent',
    {
      onRequest: authenticate(services),
      preHandler: checkAmount,
      // Seed 001's example sends the count as curl's `--data-urlencode`, after the JSON body.
      config: { tollgate: {}, bodyParameters: ['concurrent_count'] },
      schema: {
        summary:
          'Fire N concurrent copies of a payment request with one Idempotency-Key and report the answers.',
        tags: ['testing'],
        headers: AuthHeaders,
        querystring: Type.Object(
          { concurrent_count: Type.Optional(Type.String({ pattern: '^[0-9]{1,2}$' })) },
          { additionalProperties: false },
        ),
        body: PaymentRequest,
      },
    },
    async (request, reply) => {
      const inQuery = (request.query as { concurrent_count?: string }).concurrent_count;
      const inBody = request.bodyParameters?.concurrent_count;
      const given = inQuery ?? inBody;
      const count = Number(given ?? SIMULATION.default);
      const where = inQuery === undefined ? 'body' : 'querystring';
      if (inQuery !== undefined && inBody !== undefined) {
        return sendProblem(reply, {
          ...serviceProblems['invalid-request'],
          detail: 'concurrent_count is given twice (in the query and after the body); give it once.',
          errors: [{ in: 'body', field: '/concurrent_count', message: 'also given in the query' }],
        });
      }
      if (
        (given !== undefined && !/^[0-9]{1,2}$/.test(given)) ||
        count < SIMULATION.min ||
        count > SIMULATION.max
      ) {
        return sendProblem(reply, {
          ...serviceProblems['invalid-request'],
          detail: `concurrent_count must be from ${SIMULATION.min} to ${SIMULATION.max}.`,
          errors: [
            {
              in: where,
              field: '/concurrent_count',
              message: `must be ${SIMULATION.min}-${SIMULATION.max}`,
            },
          ],
        });
      }
      const key = parseIdempotencyKey(request.headers['idempotency-key']);
      if (!key.ok) {
        const missing = key.error.code === ErrorCode.IdempotencyKeyMissing;
        return sendProblem(reply, {
          ...problems[missing ? 'idempotency-key-missing' : 'idempotency-key-malformed'],
          detail: key.error.message,
        });
      }
      const principal = request.principal!;
      if (running.has(principal)) {
        return sendProblem(reply.header('retry-after', '1'), {
          ...serviceProblems['simulation-in-progress'],
          detail: 'You already have a simulation running; one at a time. Retry after 1 s.',
          retry_after: 1,
        });
      }
      running.add(principal);
      try {
        let opened: SimulationTarget;
        try {
          opened = await target.get();
        } catch (error) {
          // Out of file descriptors, say: the next simulation tries again.
          request.log.error({ err: error }, 'the simulation listener could not be opened');
          return sendProblem(reply.header('retry-after', '1'), {
            ...serviceProblems['simulation-unavailable'],
            detail: 'The simulation could not start here; nothing was sent. Retry after 1 s.',
            retry_after: 1,
          });
        }
        const { url, token } = opened;
        const headers = {
          'content-type': 'application/json',
          authorization: request.headers.authorization!,
          'idempotency-key': request.headers['idempotency-key'] as string,
          'x-simulation-token': token,
        };
        const body = JSON.stringify(request.body);
        const started = performance.now();
        // Copy n's request id is the simulation's with `.n` (a fresh one if that is too long).
        const results = await Promise.all(
          Array.from({ length: count }, (_, n) =>
            sendCopy(url, { ...headers, 'x-request-id': `${request.id}.${n + 1}` }, body),
          ),
        );
        return reply
          .type('application/json; charset=utf-8')
          .send(JSON.stringify(summarize(count, results, started)));
      } finally {
        running.delete(principal);
      }
    },
  );
}

/**
 * `open()` called once and its promise shared — unless it fails: a failure is forgotten, so
 * the next `get()` tries again (a listener that could not open once must not stay broken).
 */
export function openedOnce<T>(open: () => Promise<T>): {
  get(): Promise<T>;
  readonly current: Promise<T> | undefined;
} {
  let current: Promise<T> | undefined;
  return {
    get() {
      current ??= open().catch((error: unknown) => {
        current = undefined;
        throw error;
      });
      return current;
    },
    get current() {
      return current;
    },
  };
}

interface CopyResult {
  readonly status: number;
  readonly replayed: boolean;
  readonly timed_out: boolean;
  readonly transaction_id: string | null;
}

/** One copy, bounded by {@link SIMULATION}`.timeoutMs`: a copy that takes longer is a 504. */
async function sendCopy(url: string, headers: Record<string, string>, body: string): Promise<CopyResult> {
  const signal = AbortSignal.timeout(SIMULATION.timeoutMs);
  try {
    const response = await fetch(url, { method: 'POST', headers, body, signal });
    const json = (await response.json().catch(() => ({}))) as { transaction_id?: string };
    return {
      status: response.status,
      replayed: response.headers.get('idempotent-replayed') === 'true',
      timed_out: false,
      transaction_id: json.transaction_id ?? null,
    };
  } catch {
    const timedOut = signal.aborted;
    return { status: timedOut ? 504 : 502, replayed: false, timed_out: timedOut, transaction_id: null };
  }
}

function summarize(count: number, results: CopyResult[], started: number) {
  const tally = (test: (r: CopyResult) => boolean) => results.filter(test).length;
  return {
    concurrent_count: count,
    processed: tally((r) => r.status < 300 && !r.replayed),
    replayed: tally((r) => r.replayed),
    conflicts: tally((r) => r.status === 409),
    rate_limited: tally((r) => r.status === 429),
    timed_out: tally((r) => r.timed_out),
    errors: tally((r) => r.status >= 400 && r.status !== 409 && r.status !== 429),
    transaction_ids: [...new Set(results.map((r) => r.transaction_id).filter((id) => id !== null))],
    duration_ms: Math.round(performance.now() - started),
    results,
  };
}
