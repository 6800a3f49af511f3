/**
 * The answer and finish steps of a protected route: what a request whose key will not run is
 * answered (a replay, a mismatch, another claimant in flight), and the claim completed with
 * the captured response — or given back — once the handler is done.
 */
import type { BeginRequest, BeginResult } from '../idempotency/engine.ts';
import type { CapturedResponse } from '../idempotency/replay.ts';
import { inFlightAnswer, mismatchAnswer, replayAnswer } from './answers.ts';
import type { Exchange } from './exchange.ts';
import type { Gate } from './gate.ts';
import type { IdempotencySettings } from './options.ts';
import type { HttpAnswer } from './problem.ts';

/** How soon a request that found its key in flight is asked to retry (`Retry-After`). */
const IN_FLIGHT_RETRY_SECONDS = 1;

/** The answer for a key that will not run: a replay, a mismatch, or another claimant in flight. */
export function keyAnswer<Req>(
  gate: Gate<Req>,
  exchange: Exchange,
  settings: IdempotencySettings,
  begun: Exclude<BeginResult, { status: 'new' }>,
): HttpAnswer {
  const outcome = begun.status === 'in-flight' ? 'conflict' : begun.status;
  gate.metrics.idempotency(exchange.route, outcome);
  exchange.log?.info(
    { decision: outcome, keyHash: short(exchange.keyed?.scope ?? ''), route: exchange.route },
    `tollgate: idempotency ${outcome}`,
  );
  const headers = gate.headers(exchange);
  switch (begun.status) {
    case 'replay':
      return replayAnswer(begun.response, headers);
    case 'mismatch':
      return mismatchAnswer(settings.mismatchStatus, headers);
    case 'in-flight':
      // The lease's end is when a crashed claimant frees the key; a running one is renewed and
      // usually done far sooner, so the client is asked back in a second, not at the lease's end.
      return inFlightAnswer(Math.min(begun.retryAfterSeconds, IN_FLIGHT_RETRY_SECONDS), headers);
  }
}

/**
 * Completes the claim with the response the handler produced (stored, or released by
 * status). When the claim was lost to another claimant meanwhile (a stalled process), this
 * response must not be the key's answer: the answer to send instead is returned (the
 * winner's stored response, or 409 while it runs).
 */
export async function finishClaim<Req>(
  gate: Gate<Req>,
  settings: IdempotencySettings | undefined,
  exchange: Exchange,
  response: CapturedResponse,
): Promise<HttpAnswer | undefined> {
  const claim = exchange.claim;
  if (claim === undefined) return undefined;
  exchange.claim = undefined;
  try {
    const done = await gate.timed('idempotency', 'complete', claim.atHome().complete(response));
    if (done.ok) return undefined;
  } catch (error) {
    gate.storeFault(exchange, 'idempotency', error);
    return undefined;
  }
  gate.metrics.idempotency(exchange.route, 'stale-owner');
  exchange.log?.warn(
    { decision: 'stale-owner', keyHash: short(claim.scope), route: exchange.route },
    "tollgate: the lease lapsed and another request took the key over; answering with the key's answer instead",
  );
  const keyed = exchange.keyed;
  if (keyed?.key === undefined || settings === undefined) return inFlightAnswer(1, gate.headers(exchange));
  const request: BeginRequest = {
    principal: exchange.principal ?? '',
    method: exchange.method,
    route: exchange.path,
    key: keyed.key,
    fingerprint: keyed.fingerprint,
  };
  return winnersAnswer(gate, exchange, settings, request, response);
}

/** Gives the key back when no response will be captured (the client went away, a stream broke). */
export async function abandonClaim<Req>(gate: Gate<Req>, exchange: Exchange): Promise<void> {
  const claim = exchange.claim;
  if (claim === undefined) return;
  exchange.claim = undefined;
  try {
    await gate.timed('idempotency', 'release', claim.atHome().release());
  } catch (error) {
    gate.storeFault(exchange, 'idempotency', error);
  }
}

/** For a stale owner: the key's stored answer, 409 while another claimant runs, or its own if the key came free. */
async function winnersAnswer<Req>(
  gate: Gate<Req>,
  exchange: Exchange,
  settings: IdempotencySettings,
  request: BeginRequest,
  own: CapturedResponse,
): Promise<HttpAnswer | undefined> {
  try {
    const begun = await gate.engine.begin(request, { ...settings.engine, waitMs: 0 });
    if (begun.status !== 'new') return keyAnswer(gate, exchange, settings, begun);
    // The winner gave the key back: this response is the key's answer after all.
    const done = await begun.claim.complete(own);
    return done.ok ? undefined : inFlightAnswer(1, gate.headers(exchange));
  } catch (error) {
    gate.storeFault(exchange, 'idempotency', error);
    return inFlightAnswer(1, gate.headers(exchange));
  }
}

/** A scope hash short enough for a log line and long enough to tell keys apart. */
function short(scope: string): string {
  return scope.slice(0, 16);
}
