import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { defineProblems, sendProblem } from 'tollgate/fastify';
import { DATABASE_RETRY_AFTER_SECONDS } from './health.ts';

const shutdownProblems = defineProblems({
  'shutting-down': { status: 503, title: 'Service Unavailable' },
});

/**
 * The requests a service is answering, so that a drain that runs out of time answers them
 * instead of resetting their connections: a client whose POST ends in a reset cannot tell
 * whether it was charged; a 503 with `Retry-After` tells it to retry with the same key.
 */
export class InFlight {
  private readonly replies = new Set<FastifyReply>();

  /** Tracks every request of `app` from its arrival to its response (or the client's hang-up). */
  constructor(app: FastifyInstance) {
    // A callback-style hook (no promise per request); the response's `close` comes once it
    // is sent, or when the client hangs up first.
    app.addHook('onRequest', (_request, reply, done) => {
      this.replies.add(reply);
      reply.raw.once('close', () => this.replies.delete(reply));
      done();
    });
  }

  /** How many requests are being answered. */
  get size(): number {
    return this.replies.size;
  }

  /**
   * Answers every request still unanswered 503 problem+json with `Retry-After` and
   * `Connection: close` (what its handler sends later is dropped).
   * @returns how many were answered.
   */
  refuseAll(retryAfterSeconds: number): number {
    let answered = 0;
    for (const reply of this.replies) {
      this.replies.delete(reply);
      if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) continue;
      sendProblem(
        reply.code(503).header('retry-after', String(retryAfterSeconds)).header('connection', 'close'),
        {
          ...shutdownProblems['shutting-down'],
          detail: `This process is stopping and could not finish the request in time. Retry after ${retryAfterSeconds} s with the same Idempotency-Key: the retry resumes where this one stopped, and nothing happens twice.`,
          retry_after: retryAfterSeconds,
        },
      );
      answered++;
    }
    return answered;
  }
}

/**
 * A graceful stop's middle: `app` stops accepting and its requests in flight get `timeoutMs`.
 * Past it, `overdue` runs (payments release their claims, so a retry elsewhere resumes at
 * once), the requests still running are answered 503 + `Retry-After`, and their answers get a
 * second to be written (a connection still sending its request is not waited for).
 * @returns whether every request finished in time.
 */
export async function drain(
  app: FastifyInstance,
  inFlight: InFlight,
  timeoutMs: number,
  overdue: () => Promise<unknown> = async () => undefined,
): Promise<boolean> {
  const closed = app.close();
  const drained = await Promise.race([closed.then(() => true), sleep(timeoutMs, false, { ref: false })]);
  if (drained) return true;
  await overdue();
  const refused = inFlight.refuseAll(DATABASE_RETRY_AFTER_SECONDS);
  app.log.warn({ refused }, 'drain timed out; answered the requests still running 503');
  await Promise.race([closed, sleep(1000)]);
  return false;
}
