import { readFileSync } from 'node:fs';
import { RedisScript } from '../../redis/script.ts';
import { type AlgorithmName, algorithmNames, type Verdict } from '../algorithm.ts';
import type { Policy } from '../policy.ts';
import type { Check } from '../store.ts';

const lua = (file: string) => readFileSync(new URL(`../lua/${file}`, import.meta.url), 'utf8');
const driver = lua('ratelimit.lua');
const twins = new Map(algorithmNames.map((name) => [name, lua(`${name}.lua`)]));
const scripts = new Map<string, RedisScript>();

/**
 * The Lua program for a set of algorithms: their twins, then the all-or-nothing driver.
 * Redis runs a script's whole body on every call, so each set gets a script of its own
 * that defines only what it uses; each is built once per process.
 */
export function rateLimitScript(algorithms: readonly AlgorithmName[]): RedisScript {
  const names = algorithmNames.filter((name) => algorithms.includes(name));
  const id = names.join('+');
  let script = scripts.get(id);
  if (!script) {
    const source = [
      'local algorithms = {}',
      `local algorithmNames = { ${algorithmNames.map((name) => `'${name}'`).join(', ')} }`,
      ...names.map((name) => twins.get(name)!),
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
}

/**
 * The script's KEYS and ARGV for several requests, each decided all-or-nothing on its own,
 * in order (see lua/ratelimit.lua for the layout).
 */
export function scriptCall(
  prefix: string,
  mode: Mode,
  clock: number,
  decisions: readonly Decision[],
): { script: RedisScript; keys: string[]; args: string[] } {
  const keys: string[] = [];
  const args = [`${modes[mode]} ${clock}`, decisions.map((decision) => decision.checks.length).join(' ')];
  const algorithms: AlgorithmName[] = [];
  for (const { checks } of decisions) {
    for (const { subject, policy, cost } of checks) {
      keys.push(`${prefix}{${hashTag(subject)}}${policy.name}:${subject}`);
      args.push(`${policyArgument(policy)} ${cost}`);
      if (!algorithms.includes(policy.algorithm)) algorithms.push(policy.algorithm);
    }
  }
  return { script: rateLimitScript(algorithms), keys, args };
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
