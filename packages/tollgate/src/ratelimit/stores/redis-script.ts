import { readFileSync } from 'node:fs';
import { RedisScript } from '../../scripting/script.ts';
import { type AlgorithmName, algorithmNames, type Verdict } from '../algorithm.ts';
import type { Policy } from '../policy.ts';
import type { Check } from '../store.ts';

const read = (url: URL) => readFileSync(url, 'utf8');
const lua = (file: string) => read(new URL(`../lua/${file}`, import.meta.url));
const driver = lua('ratelimit.lua');
const keyStep = read(new URL('../../admission/lua/key-step.lua', import.meta.url));
const twins = new Map(algorithmNames.map((name) => [name, lua(`${name}.lua`)]));
const scripts = new Map<string, RedisScript>();

/**
 * The Lua program for a set of algorithms: their twins, then the all-or-nothing driver (with
 * the key step of admissions when `admission`). Redis runs a script's whole body on every
 * call, so each set gets a script of its own that defines only what it uses; each is built
 * once per process.
 */
export function rateLimitScript(algorithms: readonly AlgorithmName[], admission = false): RedisScript {
  const names = algorithmNames.filter((name) => algorithms.includes(name));
  const id = `${names.join('+')}${admission ? '+admit' : ''}`;
  let script = scripts.get(id);
  if (!script) {
    const source = [
      'local algorithms = {}',
      `local algorithmNames = { ${algorithmNames.map((name) => `'${name}'`).join(', ')} }`,
      ...names.map((name) => twins.get(name)!),
      ...(admission ? [keyStep] : []),
      driver,
    ].join('\n');
    script = new RedisScript(`ratelimit(${id}).lua`, source);
    scripts.set(id, script);
  }
  return script;
}

export type Mode = 'consume' | 'peek' | 'refund';

/** One request's checks, decided together. */
export interface Decision {
  readonly checks: readonly Check[];
  /** Refunds only: the server instant (ms) at which the checks were consumed. */
  readonly consumedAt?: number;
}

/** How an admission's key is looked at (see admission/lua/key-step.lua). */
export const KeyStepKind = { record: 1, cache: 2, recordLookup: 3 } as const;
export type KeyStepKind = (typeof KeyStepKind)[keyof typeof KeyStepKind];

/** One admission as the script decides it. */
export interface AdmissionDecision {
  readonly requestChecks: readonly Check[];
  readonly operationChecks: readonly Check[];
  readonly key?: {
    readonly kind: KeyStepKind;
    /** The full Redis key of the record or cache entry. */
    readonly redisKey: string;
    readonly fingerprint: string;
    readonly leaseMs: number;
    readonly ttlMs: number;
  };
}

/** The six values of a key step in the reply (see admission/lua/key-step.lua). */
export type KeyStepReply = readonly [number, unknown, unknown, unknown, unknown, unknown];

/** What the script answered one admission. */
export interface AdmissionReply {
  /** The script's clock (ms). */
  readonly now: number;
  /** requestChecks then operationChecks. */
  readonly verdicts: Verdict[];
  readonly key?: KeyStepReply;
}

interface Call {
  script: RedisScript;
  keys: string[];
  args: string[];
}

/**
 * The script's KEYS and ARGV for several requests, each decided all-or-nothing on its own,
 * in order (see lua/ratelimit.lua for the layout).
 */
export function scriptCall(prefix: string, mode: Mode, clock: number, decisions: readonly Decision[]): Call {
  const keys: string[] = [];
  let counts = '';
  const args = [`${modes[mode]} ${clock}`, ''];
  const algorithms: AlgorithmName[] = [];
  for (const { checks, consumedAt } of decisions) {
    counts = counts === '' ? String(checks.length) : `${counts} ${checks.length}`;
    const at = mode === 'refund' && consumedAt !== undefined ? ` ${consumedAt}` : '';
    for (const { subject, policy, cost } of checks) {
      keys.push(counterKey(prefix, policy, subject));
      args.push(at === '' ? checkArgument(policy, cost) : `${policyArgument(policy)} ${cost}${at}`);
      if (!algorithms.includes(policy.algorithm)) algorithms.push(policy.algorithm);
    }
  }
  args[1] = counts;
  return { script: rateLimitScript(algorithms), keys, args };
}

/** The script call of mode 4 (admit) for several admissions, decided in order. */
export function admissionCall(prefix: string, clock: number, decisions: readonly AdmissionDecision[]): Call {
  const keys: string[] = [];
  const args = ['', ''];
  const steps: string[] = [];
  const stepArgs: string[] = [];
  const algorithms: AlgorithmName[] = [];
  let shape = '';
  const add = (checks: readonly Check[]) => {
    for (const { subject, policy, cost } of checks) {
      keys.push(counterKey(prefix, policy, subject));
      args.push(checkArgument(policy, cost));
      if (!algorithms.includes(policy.algorithm)) algorithms.push(policy.algorithm);
    }
  };
  for (const { requestChecks, operationChecks, key } of decisions) {
    const part = `${requestChecks.length}.${operationChecks.length}.${key?.kind ?? 0}`;
    shape = shape === '' ? part : `${shape} ${part}`;
    add(requestChecks);
    add(operationChecks);
    if (key) {
      steps.push(key.redisKey);
      stepArgs.push(
        key.fingerprint,
        `${Math.max(1, Math.ceil(key.leaseMs))} ${Math.max(1, Math.ceil(key.ttlMs))}`,
      );
    }
  }
  args[0] = `4 ${clock}`;
  args[1] = shape;
  keys.push(...steps);
  args.push(...stepArgs);
  return { script: rateLimitScript(algorithms, true), keys, args };
}

/** Splits an admission reply (strings as Buffers) into each admission's part. */
export function admissionReplies(
  reply: readonly unknown[],
  decisions: readonly AdmissionDecision[],
): AdmissionReply[] {
  const now = reply[0] as number;
  const numbers = reply as readonly number[];
  let checks = 0;
  for (const { requestChecks, operationChecks } of decisions)
    checks += requestChecks.length + operationChecks.length;
  let index = 0;
  let step = 1 + checks * 4;
  return decisions.map(({ requestChecks, operationChecks, key }) => {
    const count = requestChecks.length + operationChecks.length;
    const verdicts = verdictsAt(numbers, index, count);
    index += count;
    if (!key) return { now, verdicts };
    const values = reply.slice(step, step + 6) as unknown as KeyStepReply;
    step += 6;
    return { now, verdicts, key: values };
  });
}

/** A counter's Redis key: hash-tagged by the subject's first part (see {@link hashTag}). */
function counterKey(prefix: string, policy: Policy, subject: string): string {
  return `${prefix}{${hashTag(subject)}}${policy.name}:${subject}`;
}

/** The verdicts of check `index` onwards (`count` of them) in a script reply. */
export function verdictsAt(reply: readonly number[], index: number, count: number): Verdict[] {
  const verdicts: Verdict[] = [];
  for (let i = index; i < index + count; i++) {
    const at = 1 + i * 4;
    verdicts.push({
      allowed: reply[at] === 1,
      remaining: reply[at + 1]!,
      resetMs: reply[at + 2]!,
      retryAfterMs: reply[at + 3]!,
    });
  }
  return verdicts;
}

/**
 * The subject's first part: every policy counting the same principal (alone, or with a
 * route) shares it, so their keys land in one Cluster slot and one script decides them.
 */
export function hashTag(subject: string): string {
  const end = subject.indexOf('|');
  return end === -1 ? subject : subject.slice(0, end);
}

const modes = { consume: 1, peek: 2, refund: 3 } as const;

const policyArguments = new WeakMap<Policy, string>();
const unitArguments = new WeakMap<Policy, string>();

/** A check's argument; the usual cost of 1 is built once per policy (one string less per check). */
function checkArgument(policy: Policy, cost: number): string {
  if (cost !== 1) return `${policyArgument(policy)} ${cost}`;
  let argument = unitArguments.get(policy);
  if (argument === undefined) {
    argument = `${policyArgument(policy)} 1`;
    unitArguments.set(policy, argument);
  }
  return argument;
}

/** "algorithm limit windowMs burst enforce", the part of a check's argument fixed by its policy. */
function policyArgument(policy: Policy): string {
  let argument = policyArguments.get(policy);
  if (argument === undefined) {
    const algorithm = algorithmNames.indexOf(policy.algorithm) + 1;
    const enforce = policy.mode === 'enforce' ? 1 : 0;
    argument = `${algorithm} ${policy.limit} ${policy.windowMs} ${policy.burst} ${enforce}`;
    policyArguments.set(policy, argument);
  }
  return argument;
}
