import type { Verdict } from '../algorithm.ts';
import { algorithms } from '../algorithms/index.ts';
import { type Check, isEnforced, type RateLimitStore } from '../store.ts';

/** Three numbers of algorithm state plus the instant the key is back to empty. */
const stride = 4;
const expiresSlot = 3;

export interface MemoryStoreOptions {
  /**
   * The most keys held at once. At the cap the least recently touched key is dropped even
   * if it is not idle yet, which forgets that subject's usage: size it above the number of
   * subjects active within your longest window.
   * @default 1_000_000
   */
  maxKeys?: number;
  /**
   * The clock, in milliseconds. Inject one in tests.
   * @default Date.now
   */
  now?: () => number;
}

/**
 * The embedded default: counters in this process's memory, exact under any concurrency
 * within the process (each call decides and writes synchronously).
 *
 * Memory is bounded without a timer per key: state lives in one growable Float64Array
 * indexed from a `Map<string, slot>`, and every call sweeps the two oldest keys, dropping
 * them if idle (their quota fully restored, so forgetting them changes nothing) or moving
 * them to the back of the queue otherwise.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly slots = new Map<string, number>();
  private readonly free: number[] = [];
  private state = new Float64Array(stride * 1024);
  private used = 0;
  private readonly scratch = new Float64Array(stride * 8);
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? 1_000_000;
    this.now = options.now ?? Date.now;
  }

  /** How many keys are held now. */
  get size(): number {
    return this.slots.size;
  }

  async consume(checks: readonly Check[]): Promise<Verdict[]> {
    return this.decide(checks, true);
  }

  async peek(checks: readonly Check[]): Promise<Verdict[]> {
    return this.decide(checks, false);
  }

  async refund(checks: readonly Check[]): Promise<void> {
    const now = this.now();
    for (const check of checks) {
      const slot = this.slots.get(check.key);
      if (slot === undefined) continue;
      algorithms[check.policy.algorithm].refund(this.state, slot, check.policy, check.cost, now);
    }
  }

  private decide(checks: readonly Check[], consume: boolean): Verdict[] {
    const now = this.now();
    this.sweep(now);
    const scratch =
      checks.length * stride <= this.scratch.length ? this.scratch : new Float64Array(checks.length * stride);
    const verdicts: Verdict[] = [];
    let blocked = false;
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i]!;
      const slot = this.slots.get(check.key);
      const verdict = algorithms[check.policy.algorithm].evaluate(
        slot === undefined ? empty : this.state,
        slot ?? 0,
        check.policy,
        check.cost,
        now,
        scratch,
        i * stride,
      );
      scratch[i * stride + expiresSlot] = now + verdict.resetMs;
      if (!verdict.allowed && isEnforced(check)) blocked = true;
      verdicts.push(verdict);
    }
    if (consume && !blocked) {
      for (let i = 0; i < checks.length; i++) {
        if (!verdicts[i]!.allowed) continue; // a shadow policy over its limit: counted as denied, not consumed
        const slot = this.slotFor(checks[i]!.key);
        this.state.set(scratch.subarray(i * stride, i * stride + stride), slot);
      }
    }
    return verdicts;
  }

  private slotFor(key: string): number {
    const existing = this.slots.get(key);
    if (existing !== undefined) return existing;
    if (this.slots.size >= this.maxKeys) this.evictOldest();
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.used;
      this.used += stride;
      if (this.used > this.state.length) {
        const grown = new Float64Array(this.state.length * 2);
        grown.set(this.state);
        this.state = grown;
      }
    }
    this.slots.set(key, slot);
    return slot;
  }

  /** Looks at the two oldest keys: drops an idle one, requeues a live one. */
  private sweep(now: number): void {
    for (let i = 0; i < 2 && this.slots.size > 0; i++) {
      const [key, slot] = this.slots.entries().next().value as [string, number];
      this.slots.delete(key);
      if (this.state[slot + expiresSlot]! <= now) this.release(slot);
      else this.slots.set(key, slot);
    }
  }

  private evictOldest(): void {
    const [key, slot] = this.slots.entries().next().value as [string, number];
    this.slots.delete(key);
    this.release(slot);
  }

  private release(slot: number): void {
    this.state.fill(0, slot, slot + stride);
    this.free.push(slot);
  }
}

const empty = new Float64Array(stride);
