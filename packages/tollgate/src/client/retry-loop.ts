import { ErrorCode } from '../codes.ts';
import { type AttemptEnded, summarize } from './attempt.ts';
import { type Backoff, retryDelay } from './backoff.ts';
import type { AttemptResult, RetryErrorCode } from './errors.ts';
import { serverDelay } from './retry-after.ts';
import { decideRetry, type RequestTraits, type RetryReason } from './retry-decision.ts';

/** What just happened, as the I/O shell (`fetch.ts`) tells the loop. */
export type LoopEvent =
  /** Attempt `state.attempt` is due: the first, or the next one after its wait. */
  | { readonly kind: 'due' }
  /** The host's circuit breaker refused a permit for the due attempt. */
  | { readonly kind: 'circuit-open' }
  /** The caller's signal fired before or during an attempt, or during the backoff after one. */
  | { readonly kind: 'aborted'; readonly cause: unknown; readonly during?: 'backoff' }
  /** Attempt `state.attempt` ended with a response or a transport failure. */
  | AttemptEnded;

/** The client's settings that decide the steps. */
export interface LoopSettings extends Backoff {
  readonly maxAttempts: number;
  readonly attemptTimeoutMs: number;
  /** The jitter's random source, in [0, 1): called once per wait, never otherwise. */
  readonly random: () => number;
}

/** Everything the loop needs to know, read by the shell: the loop reads no clock and no socket. */
export interface LoopState {
  readonly settings: LoopSettings;
  readonly request: RequestTraits & { readonly url: string };
  /** The origin whose budget and breaker apply. */
  readonly origin: string;
  /** The attempt that is due or just ended; 1 for the first. */
  readonly attempt: number;
  /** The time of the event, in ms since the epoch. */
  readonly now: number;
  readonly deadlineAt: number;
  /** The operation's deadline as the caller gave it, for messages. */
  readonly deadlineMs: number;
  /** The host's retry budget now; `undefined` when the client has none. */
  readonly budget: { readonly allowsRetry: boolean; readonly ratio: number } | undefined;
}

/** What the shell does next. */
export type Step =
  /** Send attempt `state.attempt` (after asking the breaker), within `timeoutMs`. */
  | { readonly kind: 'send'; readonly timeoutMs: number }
  /** Take a retry from the budget, wait `delayMs`, then send the next attempt. */
  | { readonly kind: 'wait'; readonly delayMs: number; readonly reason: RetryReason }
  /** Reject with a `RetryError`; `response` or `cause` is what the last attempt ended with. */
  | ({ readonly kind: 'give-up'; readonly code: RetryErrorCode; readonly message: string } & Last)
  /** Resolve with this final response. */
  | { readonly kind: 'done'; readonly response: Response };

type Last = { readonly response?: Response | undefined; readonly cause?: unknown };

/**
 * The retry loop's decisions, without I/O: given what just happened and the state the shell
 * read, the next step. Tests drive it directly, with any times they like.
 */
export function nextStep(event: LoopEvent, state: LoopState): Step {
  switch (event.kind) {
    case 'aborted':
      return giveUp(state, { why: event.during === 'backoff' ? 'aborted-in-backoff' : 'aborted' }, event);
    case 'circuit-open':
      return giveUp(state, { why: 'circuit-open' });
    case 'due': {
      const remaining = state.deadlineAt - state.now;
      if (remaining <= 0) return giveUp(state, { why: 'deadline-passed' });
      return { kind: 'send', timeoutMs: Math.min(state.settings.attemptTimeoutMs, remaining) };
    }
    default:
      return afterAttempt(event, state);
  }
}

function afterAttempt(outcome: AttemptEnded, state: LoopState): Step {
  const { settings, attempt } = state;
  const decision = decideRetry(outcome, state.request);
  if (decision.kind === 'final' && outcome.kind === 'response')
    return { kind: 'done', response: outcome.response };
  const result = summarize(outcome);
  const last = outcome.kind === 'response' ? { response: outcome.response } : { cause: outcome.cause };
  if (decision.kind !== 'retry') return giveUp(state, { why: 'not-safe', result }, last);
  if (attempt >= settings.maxAttempts) return giveUp(state, { why: 'attempts-exhausted', result }, last);

  const askedMs = outcome.kind === 'response' ? serverDelay(outcome.response.headers, state.now) : undefined;
  const delayMs = retryDelay(attempt, settings, settings.random, askedMs);
  const leftMs = state.deadlineAt - state.now;
  if (delayMs >= leftMs) {
    const why: GiveUp =
      leftMs <= 0
        ? { why: 'deadline-passed', result }
        : askedMs !== undefined && askedMs >= delayMs
          ? { why: 'server-wait-past-deadline', askedMs, leftMs }
          : { why: 'backoff-past-deadline', delayMs, leftMs };
    return giveUp(state, why, last);
  }
  if (state.budget && !state.budget.allowsRetry) {
    return giveUp(state, { why: 'budget-exhausted', result, ratio: state.budget.ratio }, last);
  }
  return { kind: 'wait', delayMs, reason: decision.reason };
}

/** Every reason to give up, with what its message needs. */
type GiveUp =
  | { readonly why: 'aborted' | 'aborted-in-backoff' | 'circuit-open' }
  | { readonly why: 'deadline-passed'; readonly result?: AttemptResult }
  | { readonly why: 'server-wait-past-deadline'; readonly askedMs: number; readonly leftMs: number }
  | { readonly why: 'backoff-past-deadline'; readonly delayMs: number; readonly leftMs: number }
  | { readonly why: 'not-safe' | 'attempts-exhausted'; readonly result: AttemptResult }
  | { readonly why: 'budget-exhausted'; readonly result: AttemptResult; readonly ratio: number };

/** The one place where give-up codes and messages are written. */
function giveUp(state: LoopState, reason: GiveUp, last: Last = {}): Step {
  const [code, why] = explain(reason, state);
  const { method, url } = state.request;
  return {
    kind: 'give-up',
    code,
    message: `${method} ${url}: ${why}`,
    response: last.response,
    cause: last.cause,
  };
}

function explain(reason: GiveUp, state: LoopState): [RetryErrorCode, string] {
  switch (reason.why) {
    case 'aborted':
      return [ErrorCode.RetryAborted, 'aborted by the caller'];
    case 'aborted-in-backoff':
      return [ErrorCode.RetryAborted, 'aborted by the caller during a backoff'];
    case 'circuit-open':
      return [
        ErrorCode.RetryCircuitOpen,
        `the circuit for ${state.origin} is open, failing fast without sending`,
      ];
    case 'deadline-passed': {
      const passed = `the deadline of ${state.deadlineMs} ms passed`;
      return [
        ErrorCode.RetryDeadlineExceeded,
        reason.result ? `${passed}, the last attempt ending with ${describe(reason.result)}` : passed,
      ];
    }
    case 'server-wait-past-deadline':
      return [
        ErrorCode.RetryDeadlineExceeded,
        `the server asked to wait ${reason.askedMs} ms (Retry-After / RateLimit), past the deadline ` +
          `(${Math.max(0, reason.leftMs)} ms left)`,
      ];
    case 'backoff-past-deadline':
      return [
        ErrorCode.RetryDeadlineExceeded,
        `the next backoff of ${Math.round(reason.delayMs)} ms would pass the deadline ` +
          `(${Math.max(0, reason.leftMs)} ms left)`,
      ];
    case 'not-safe':
      return [
        ErrorCode.RetryNotSafe,
        `${describe(reason.result)} after the request may have been processed, and without an ` +
          'idempotency key repeating it could repeat its effect',
      ];
    case 'attempts-exhausted':
      return [
        ErrorCode.RetryAttemptsExhausted,
        `all ${state.attempt} attempts failed, the last with ${describe(reason.result)}`,
      ];
    case 'budget-exhausted':
      return [
        ErrorCode.RetryBudgetExhausted,
        `${describe(reason.result)}, and the retry budget for ${state.origin} is spent (retries are ` +
          `capped at ${reason.ratio * 100} % of requests) so this client does not amplify the outage`,
      ];
  }
}

function describe(result: AttemptResult): string {
  return result.kind === 'response' ? `HTTP ${result.status}` : result.code;
}
