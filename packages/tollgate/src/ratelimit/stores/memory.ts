import { type Clock, systemClock } from '../../clock.ts';
import type { Verdict } from '../algorithm.ts';
import { algorithms } from '../algorithms/index.ts';
import type { Check, RateLimitStore } from '../store.ts';

/** Three numbers of algorithm state plus the instant the key is back to empty. */
const stride = 4;
const expiresSlot = 3;

/** Options of {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /**
   * The most keys held at once. At the cap the key under the clock hand is dropped even if
   * it is not idle yet, which forgets that subject's usage: size it above the number of
   * subjects active within your longest window.
   * @default 1_000_000
   */
  maxKeys?: number;
  /**
   * The time windows and buckets are measured by. Inject one in tests.
   * @default systemClock
   */
  clock?: Pick<Clock, 'now'>;
}

/** One policy's counters: subject → offset of its state in the shared array. */
type Table = Map<string, number>;

/**
 * The embedded default: counters in this process's memory, exact under any concurrency
 * within the process (each call decides and writes synchronously).
 *
 * Memory is bounded without a timer per key: state lives in one growable Float64Array,
 * found through one `Map<subject, offset>` per policy (keyed by the caller's own string,
 * whose hash V8 has already cached), and every call moves a clock hand over the next two
 * slots, dropping a key that is idle (its quota fully restored, so forgetting it changes
 * nothing). At `maxKeys`, the key under the hand goes, idle or not.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly inProcess = true;
  private readonly tables = new Map<string, Table>();
  private readonly tableList: Table[] = [];
  /** For each slot (offset / stride): its subject and its table's index, so the hand can drop it. */
  private subjects: (string | undefined)[] = [];
  private owners = new Uint16Array(1024);
  private readonly free: number[] = [];
  private state = new Float64Array(stride * 1024);
  private used = 0;
  private hand = 0;
  private count = 0;
  /** Per decision: each check's next state, and its slot (-1 for a key not held yet). */
  private scratch = new Float64Array(stride * 8);
  private found = new Int32Array(8);
  private readonly maxKeys: number;
  private readonly clock: Pick<Clock, 'now'>;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? 1_000_000;
    this.clock = options.clock ?? systemClock;
  }

  /** How many keys are held now. */
  get size(): number {
    return this.count;
  }

  consume(checks: readonly Check[]): Promise<Verdict[]> {
    return Promise.resolve(this.decideNow(checks, 'consume'));
  }

  peek(checks: readonly Check[]): Promise<Verdict[]> {
    return Promise.resolve(this.decideNow(checks, 'peek'));
  }

  refund(checks: readonly Check[]): Promise<void> {
    const now = this.clock.now();
    for (const { policy, subject, cost } of checks) {
      const slot = this.tables.get(policy.name)?.get(subject);
      if (slot !== undefined) algorithms[policy.algorithm].refund(this.state, slot, policy, cost, now);
    }
    return Promise.resolve();
  }

  /**
   * `consume` or `peek` as one synchronous step, for callers in this process that must decide
   * something else in the same step (an admission claiming an idempotency key) or that want
   * no promise at all (the limiter's in-process path). `consume` decides and stores when
   * admitted; `peek` only decides.
   */
  decideNow(checks: readonly Check[], mode: 'consume' | 'peek'): Verdict[] {
    const now = this.clock.now();
    this.sweep(now);
    const count = checks.length;
    if (count > this.found.length) {
      this.found = new Int32Array(count * 2);
      this.scratch = new Float64Array(count * 2 * stride);
    }
    const { found, scratch } = this;
    const verdicts = new Array<Verdict>(count);
    let blocked = false;
    for (let i = 0; i < count; i++) {
      const check = checks[i]!;
      const policy = check.policy;
      const slot = this.tables.get(policy.name)?.get(check.subject);
      const at = i * stride;
      const verdict = algorithms[policy.algorithm].evaluate(
        slot === undefined ? empty : this.state,
        slot ?? 0,
        policy,
        check.cost,
        now,
        scratch,
        at,
      );
      scratch[at + expiresSlot] = now + verdict.resetMs;
      found[i] = slot ?? -1;
      if (!verdict.allowed && policy.mode === 'enforce') blocked = true;
      verdicts[i] = verdict;
    }
    if (mode === 'consume' && !blocked) this.write(checks, verdicts);
    return verdicts;
  }

  /** Stores the next state of every admitted check (a shadow check over its limit is reported, not consumed). */
  private write(checks: readonly Check[], verdicts: readonly Verdict[]): void {
    // Taking a slot for a new key may drop another key at maxKeys, so after the first new key
    // every slot is looked up again rather than trusted from the decision.
    let allocated = false;
    for (let i = 0; i < checks.length; i++) {
      if (!verdicts[i]!.allowed) continue;
      let slot = this.found[i]!;
      if (slot < 0 || allocated) {
        allocated = true;
        slot = this.slotFor(checks[i]!);
      }
      for (let j = 0; j < stride; j++) this.state[slot + j] = this.scratch[i * stride + j]!;
    }
  }

  private slotFor({ policy, subject }: Check): number {
    let table = this.tables.get(policy.name);
    if (table === undefined) {
      table = new Map();
      this.tables.set(policy.name, table);
      this.tableList.push(table);
    }
    const existing = table.get(subject);
    if (existing !== undefined) return existing;
    if (this.count >= this.maxKeys) this.release(this.occupiedSlotAtHand());
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.used;
      this.used += stride;
      if (this.used > this.state.length) {
        const grown = new Float64Array(this.state.length * 2);
        grown.set(this.state);
        this.state = grown;
        const owners = new Uint16Array(this.owners.length * 2);
        owners.set(this.owners);
        this.owners = owners;
      }
    }
    table.set(subject, slot);
    this.subjects[slot / stride] = subject;
    this.owners[slot / stride] = this.tableList.indexOf(table);
    this.count++;
    return slot;
  }

  /** Moves the clock hand over two slots, dropping idle keys. */
  private sweep(now: number): void {
    for (let i = 0; i < 2 && this.used > 0; i++) {
      const slot = this.advanceHand();
      if (this.subjects[slot / stride] !== undefined && this.state[slot + expiresSlot]! <= now)
        this.release(slot);
    }
  }

  private advanceHand(): number {
    const slot = this.hand;
    this.hand = slot + stride >= this.used ? 0 : slot + stride;
    return slot;
  }

  private occupiedSlotAtHand(): number {
    for (;;) {
      const slot = this.advanceHand();
      if (this.subjects[slot / stride] !== undefined) return slot;
    }
  }

  private release(slot: number): void {
    const index = slot / stride;
    this.tableList[this.owners[index]!]!.delete(this.subjects[index]!);
    this.subjects[index] = undefined;
    this.state.fill(0, slot, slot + stride);
    this.free.push(slot);
    this.count--;
  }
}

const empty = new Float64Array(stride);
