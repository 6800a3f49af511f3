import { readIdempotencyRow } from './idempotency-rows.ts';
import { checkPolicy, policyFields, readLimitRow } from './limit-rows.ts';
import type { Path, Reader } from './reader.ts';
import { routeIdentity } from './route-pattern.ts';
import type { IdempotencyRow, LimitRow, PolicyRows } from './rows.ts';

const topFields = ['version', 'idempotency', 'limits'];

/** Reads a whole parsed file; every problem is recorded on `reader`, not only the first. */
export function readPolicyRows(reader: Reader, value: unknown): PolicyRows | undefined {
  const top = reader.mapping(value, [], topFields, 'version: 1, then idempotency: [...] and limits: [...]');
  if (top === undefined) return undefined;
  if (reader.present(top, 'version', [], '1')) reader.choice(top.version, ['version'], [1] as const);
  const idempotency = readList(reader, top.idempotency, ['idempotency'], readIdempotencyRow);
  const limits = readList(reader, top.limits, ['limits'], readLimitRow);
  if (idempotency !== undefined) checkUniqueRoutes(reader, idempotency);
  if (limits !== undefined) checkSharedNames(reader, limits);
  return idempotency === undefined || limits === undefined ? undefined : { idempotency, limits };
}

/**
 * Applies configuration values to the rows' limits: the effective limit of each row. Keys
 * the file does not name are problems (a misspelt key would otherwise be silently ignored).
 */
export function effectiveLimits(
  reader: Reader,
  limits: readonly LimitRow[],
  overrides: Readonly<Record<string, number>>,
): number[] {
  const known = new Set(limits.map((row) => row.configKey));
  for (const [key, value] of Object.entries(overrides)) {
    if (!known.has(key)) {
      reader.problem(
        ['overrides', key],
        'is not the configKey of any limit in the file.',
        `Use one of: ${[...known].filter(Boolean).join(', ') || '(none)'}.`,
      );
    } else if (!Number.isSafeInteger(value) || value < 1) {
      reader.problem(
        ['overrides', key],
        `must be a whole number of at least 1, not ${value}.`,
        `Set ${key} to a whole number such as 30.`,
      );
    }
  }
  return limits.map((row, index) => {
    const value = row.configKey === undefined ? undefined : overrides[row.configKey];
    if (value === undefined || !Number.isSafeInteger(value) || value < 1) return row.limit;
    checkPolicy(reader, row, ['limits', index], value);
    return value;
  });
}

function readList<T>(
  reader: Reader,
  value: unknown,
  path: Path,
  readRow: (reader: Reader, value: unknown, path: Path) => T | undefined,
): T[] | undefined {
  if (value === undefined || value === null) return [];
  const list = reader.list(value, path, `${path[0]}: [ ... ]`);
  if (list === undefined) return undefined;
  const rows = list.map((item, index) => readRow(reader, item, [...path, index]));
  return rows.every((row) => row !== undefined) ? rows : undefined;
}

function checkUniqueRoutes(reader: Reader, rows: readonly IdempotencyRow[]): void {
  const seen = new Map<string, number>();
  rows.forEach((row, index) => {
    const route = routeIdentity(row.route);
    const first = seen.get(route);
    if (first === undefined) seen.set(route, index);
    else
      reader.problem(
        ['idempotency', index, 'route'],
        `${route} already has a row (idempotency[${first}]).`,
        'Keep one row per route.',
      );
  });
}

/** What rows sharing a name share: the scope, and every member stating the policy. */
const shared = ['subject', ...policyFields] as const;

/** Rows sharing a name share counters, so they must state the same policy. */
function checkSharedNames(reader: Reader, rows: readonly LimitRow[]): void {
  const first = new Map<string, number>();
  rows.forEach((row, index) => {
    const earlier = first.get(row.name);
    if (earlier === undefined) {
      first.set(row.name, index);
      return;
    }
    const other = rows[earlier]!;
    const differ = shared.filter((field) => comparable(row[field]) !== comparable(other[field]));
    if (differ.length === 0) return;
    reader.problem(
      ['limits', index, 'name'],
      `reuses the name "${row.name}" of limits[${earlier}] with a different ${differ.join(', ')}; rows sharing a name share its counters.`,
      `Give this limit its own name, or state the same ${differ.join(', ')} as limits[${earlier}].`,
    );
  });
}

function comparable(value: unknown): string {
  if (value !== null && typeof value === 'object' && 'ms' in value) return String(value.ms);
  return JSON.stringify(value) ?? 'undefined';
}
