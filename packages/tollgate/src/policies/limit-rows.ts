import { TollgateError } from '../errors.ts';
import { algorithmNames } from '../ratelimit/algorithm.ts';
import { definePolicy, type SubjectPart } from '../ratelimit/policy.ts';
import type { Path, Reader } from './reader.ts';
import { parseRoute, type RoutePattern, routeIdentity } from './route-pattern.ts';
import type { LimitRow } from './rows.ts';

/** The members that state a row's rate-limit policy: rows sharing a name must agree on them. */
export const policyFields = [
  'limit',
  'window',
  'algorithm',
  'burst',
  'mode',
  'counts',
  'onStoreError',
  'configKey',
] as const;
const fields = ['name', 'scope', 'label', 'routes', ...policyFields];
const scopeFacts = ['principal', 'ip', 'route'];
const scopePart = /^(param|body):[A-Za-z0-9_.-]{1,128}$/;
const scopeHelp =
  'Write global, or a list of principal, ip, route, param:<name>, body:<dotted.path>, e.g. [principal, body:streamer_id].';
const configKey = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/;

const rowExample = '{ name: vote, scope: [principal], routes: [POST /api/votes], limit: 30, window: 60s }';

/** Reads one entry of `limits:`; `undefined` (problems recorded) when it is unusable. */
export function readLimitRow(reader: Reader, value: unknown, path: Path): LimitRow | undefined {
  const row = reader.mapping(value, path, fields, rowExample);
  if (row === undefined) return undefined;
  const at = (name: string) => [...path, name];
  const name = reader.present(row, 'name', path, 'vote')
    ? reader.text(row.name, at('name'), 'name: vote')
    : undefined;
  const subject = reader.present(row, 'scope', path, '[principal]')
    ? readScope(reader, row.scope, at('scope'))
    : undefined;
  const label = row.label === undefined ? undefined : reader.text(row.label, at('label'), 'label: Per user');
  const routes = reader.present(row, 'routes', path, '[POST /api/votes]')
    ? readRoutes(reader, row.routes, at('routes'))
    : undefined;
  const limit = reader.present(row, 'limit', path, '30')
    ? reader.count(row.limit, at('limit'), 'limit: 30')
    : undefined;
  const window = reader.present(row, 'window', path, '60s')
    ? reader.duration(row.window, at('window'))
    : undefined;
  const algorithm =
    row.algorithm === undefined
      ? 'token-bucket'
      : reader.choice(row.algorithm, at('algorithm'), algorithmNames);
  const burst = row.burst === undefined ? undefined : reader.count(row.burst, at('burst'), 'burst: 30');
  if (row.burst !== undefined && (algorithm === 'fixed-window' || algorithm === 'sliding-window')) {
    reader.problem(
      at('burst'),
      `applies to token-bucket and gcra only, not ${algorithm}.`,
      'Remove burst, or use algorithm: token-bucket.',
    );
  }
  const mode =
    row.mode === undefined ? 'enforce' : reader.choice(row.mode, at('mode'), ['enforce', 'shadow'] as const);
  const counts =
    row.counts === undefined
      ? 'requests'
      : reader.choice(row.counts, at('counts'), ['requests', 'operations'] as const);
  const onStoreError =
    row.onStoreError === undefined
      ? undefined
      : reader.choice(row.onStoreError, at('onStoreError'), ['open', 'closed'] as const);
  const key =
    row.configKey === undefined
      ? undefined
      : reader.matching(
          row.configKey,
          at('configKey'),
          configKey,
          'a configuration key',
          'configKey: limits.votePerMin',
        );
  const parts = [name, subject, routes, limit, window, algorithm, mode, counts];
  if (parts.some((part) => part === undefined) || (row.burst !== undefined && burst === undefined))
    return undefined;
  if ((row.label !== undefined && label === undefined) || (row.configKey !== undefined && key === undefined))
    return undefined;
  if (row.onStoreError !== undefined && onStoreError === undefined) return undefined;
  const read: LimitRow = {
    name: name!,
    subject: subject!,
    label,
    routes: routes!,
    limit: limit!,
    window: window!,
    algorithm: algorithm!,
    burst,
    mode: mode!,
    counts: counts!,
    onStoreError,
    configKey: key,
  };
  return checkPolicy(reader, read, path) ? read : undefined;
}

/** The configuration keys `limits` name, once each, in file order. */
export function configKeysOf(limits: readonly LimitRow[]): string[] {
  return [...new Set(limits.flatMap((row) => (row.configKey === undefined ? [] : [row.configKey])))];
}

/** What {@link definePolicy} says of a row (name format, sub-millisecond limits…), as a problem. */
export function checkPolicy(reader: Reader, row: LimitRow, path: Path, limit = row.limit): boolean {
  try {
    definePolicy(policyOptionsOf(row, limit));
    return true;
  } catch (error) {
    if (!(error instanceof TollgateError)) throw error;
    reader.problem(path, `${error.message}.`, 'Change the row so that the rate-limit policy is possible.');
    return false;
  }
}

/** The rate-limit policy options a row states, with `limit` (the effective one). */
export function policyOptionsOf(row: LimitRow, limit: number) {
  return {
    name: row.name,
    algorithm: row.algorithm,
    limit,
    windowSeconds: row.window.ms / 1000,
    ...(row.burst === undefined ? {} : { burst: row.burst }),
    subject: row.subject,
    mode: row.mode,
    ...(row.onStoreError === undefined ? {} : { onStoreError: row.onStoreError }),
  };
}

function readScope(reader: Reader, value: unknown, path: Path): readonly SubjectPart[] | undefined {
  if (value === 'global') return [];
  if (!Array.isArray(value)) {
    reader.problem(
      path,
      `${JSON.stringify(value)} is not a scope.`,
      typeof value === 'string' ? `Write [${value}] for a list of one part, or global.` : scopeHelp,
    );
    return undefined;
  }
  let ok = true;
  value.forEach((part, index) => {
    if (typeof part === 'string' && (scopeFacts.includes(part) || scopePart.test(part))) return;
    ok = false;
    reader.problem([...path, index], `${JSON.stringify(part)} is not a scope part.`, scopeHelp);
  });
  if (ok && new Set(value).size !== value.length) {
    reader.problem(path, 'names a part twice.', 'Name each part once.');
    ok = false;
  }
  return ok ? (value as SubjectPart[]) : undefined;
}

function readRoutes(reader: Reader, value: unknown, path: Path): readonly RoutePattern[] | undefined {
  const list = typeof value === 'string' ? [value] : reader.list(value, path, 'routes: [POST /api/votes]');
  if (list === undefined) return undefined;
  if (list.length === 0) {
    reader.problem(path, 'is empty: a limit must apply to some route.', 'Write routes: [POST /api/votes].');
    return undefined;
  }
  const routes: RoutePattern[] = [];
  list.forEach((item, index) => {
    const at = typeof value === 'string' ? path : [...path, index];
    const text = reader.text(item, at, 'POST /api/votes');
    if (text === undefined) return;
    const parsed = parseRoute(text, false);
    if (!parsed.ok) {
      reader.problem(
        at,
        parsed.message,
        'Write METHOD /template, /template for every method, or a prefix ending in *, e.g. POST /internal/worker/*.',
      );
    } else if (routes.some((route) => routeIdentity(route) === routeIdentity(parsed.route))) {
      reader.problem(at, `names ${parsed.route.text} twice.`, 'Name each route once.');
    } else {
      routes.push(parsed.route);
    }
  });
  return routes.length === list.length ? routes : undefined;
}
