import { type Duration, durationHelp, parseDuration } from './duration.ts';
import type { PolicyProblem } from './errors.ts';
import { closest } from './suggest.ts';

/** A position in the parsed file: member names and array indexes. */
export type Path = readonly (string | number)[];

/** `['limits', 2, 'window']` → `limits[2].window`. */
export function pathText(path: Path): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join('');
}

/** How a value was written, for messages: `"60"`, `60`, `a list`. */
export function shown(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

/**
 * Reads parsed YAML/JSON values strictly and collects every problem instead of stopping at the
 * first. Each `read*` records a problem and returns `undefined` when the value is unusable.
 */
export class Reader {
  readonly problems: PolicyProblem[] = [];

  /** `lineOf` finds where a path is in the source (YAML only). */
  constructor(private readonly lineOf: (path: Path) => number | undefined = () => undefined) {}

  /** Records a problem at `path`. */
  problem(path: Path, message: string, fix: string): void {
    const line = this.lineOf(path);
    this.problems.push({ path: pathText(path), ...(line === undefined ? {} : { line }), message, fix });
  }

  /** A mapping with only `fields` (a misspelt member is a problem, never ignored). */
  mapping(value: unknown, path: Path, fields: readonly string[], example: string) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, `must be a mapping, not ${shown(value)}.`, `Write ${example}.`);
      return undefined;
    }
    const members = value as Record<string, unknown>;
    for (const name of Object.keys(members)) {
      if (fields.includes(name)) continue;
      const near = closest(name, fields);
      this.problem(
        [...path, name],
        'is not a field here.',
        near === undefined ? `Use one of: ${fields.join(', ')}.` : `Did you mean "${near}"?`,
      );
    }
    return members;
  }

  /** A list (absent → `[]` unless required). */
  list(value: unknown, path: Path, example: string): readonly unknown[] | undefined {
    if (Array.isArray(value)) return value;
    this.problem(path, `must be a list, not ${shown(value)}.`, `Write ${example}.`);
    return undefined;
  }

  /** A required member: records "missing" and returns false when absent. */
  present(members: Record<string, unknown>, name: string, path: Path, example: string): boolean {
    if (members[name] !== undefined && members[name] !== null) return true;
    this.problem([...path, name], 'is missing.', `Add ${name}: ${example}.`);
    return false;
  }

  /** A non-empty string. */
  text(value: unknown, path: Path, example: string): string | undefined {
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    this.problem(path, `must be a non-empty string, not ${shown(value)}.`, `Write ${example}.`);
    return undefined;
  }

  /** A string matching `pattern`. */
  matching(value: unknown, path: Path, pattern: RegExp, what: string, example: string): string | undefined {
    const text = this.text(value, path, example);
    if (text === undefined) return undefined;
    if (pattern.test(text)) return text;
    this.problem(path, `"${text}" is not ${what}.`, `Write ${example}.`);
    return undefined;
  }

  /** A positive safe integer. */
  count(value: unknown, path: Path, example: string): number | undefined {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
    this.problem(path, `must be a whole number of at least 1, not ${shown(value)}.`, `Write ${example}.`);
    return undefined;
  }

  /** `true` or `false`. */
  flag(value: unknown, path: Path): boolean | undefined {
    if (typeof value === 'boolean') return value;
    this.problem(path, `must be true or false, not ${shown(value)}.`, 'Write true or false.');
    return undefined;
  }

  /** One of `choices` (numbers or strings, compared as written). */
  choice<T extends string | number>(value: unknown, path: Path, choices: readonly T[]): T | undefined {
    if ((choices as readonly unknown[]).includes(value)) return value as T;
    const near = typeof value === 'string' ? closest(value, choices.map(String)) : undefined;
    this.problem(
      path,
      `${shown(value)} is not one of ${choices.join(', ')}.`,
      near === undefined ? `Write one of: ${choices.join(', ')}.` : `Did you mean ${near}?`,
    );
    return undefined;
  }

  /** A duration such as `60s` (see {@link parseDuration}). */
  duration(value: unknown, path: Path): Duration | undefined {
    const duration = typeof value === 'string' ? parseDuration(value) : undefined;
    if (duration !== undefined) return duration;
    this.problem(path, `${shown(value)} is not a duration.`, durationHelp);
    return undefined;
  }
}
