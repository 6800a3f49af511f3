import type { SubjectPart } from '../ratelimit/policy.ts';
import type { IdempotencyRow, KeyRow, LimitRow } from './rows.ts';

/** A limit row and the limit in force after configuration values. */
export interface EffectiveLimitRow {
  readonly row: LimitRow;
  readonly limit: number;
}

/**
 * The two tables of a policy file, worded as a policy document reads: `## Idempotency
 * Requirements` (Endpoint / Operation, Idempotency Key Source, Storage, TTL, Notes) and
 * `## Rate Limits` (Scope, Endpoint, Limit, Window, Configuration Key), rows in file order.
 * A limit reads `30 requests` whatever it counts (`counts: operations` only leaves replays,
 * mismatches and conflicts out of those requests).
 */
export function policyMarkdown(
  idempotency: readonly IdempotencyRow[],
  limits: readonly EffectiveLimitRow[],
): string {
  return [
    '## Idempotency Requirements',
    ...table(
      ['Endpoint / Operation', 'Idempotency Key Source', 'Storage', 'TTL', 'Notes'],
      idempotency.map((row) => [
        code(row.route.text),
        keySource(row.key, row.required),
        row.storage ?? '—',
        row.ttl.text,
        row.notes ?? '',
      ]),
    ),
    '',
    '## Rate Limits',
    ...table(
      ['Scope', 'Endpoint', 'Limit', 'Window', 'Configuration Key'],
      limits.map(({ row, limit }) => [
        row.label ?? scopeLabel(row.subject),
        row.routes.map((route) => code(route.text)).join(', '),
        `${limit} ${limit === 1 ? 'request' : 'requests'}`,
        row.algorithm === 'sliding-window' ? `${row.window.text} rolling` : row.window.text,
        row.configKey === undefined ? '—' : code(row.configKey),
      ]),
    ),
    '',
  ].join('\n');
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  if (rows.length === 0) return ['', 'None.'];
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)];
}

/** A cell's text: pipes would end the cell, line breaks the row. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replace(/\s*\n\s*/g, ' ');
}

function code(text: string): string {
  return `\`${text}\``;
}

function keySource(key: KeyRow, required: boolean): string {
  if (key.kind === 'body') return `${key.label} ${code(key.path.split('.').at(-1)!)}`;
  if (key.generated) return `${code(key.name)} (optional, generated server-side)`;
  return required ? `${code(key.name)} header` : `${code(key.name)} header (optional)`;
}

/** `[]` → Global; `[principal, body:streamer_id]` → Per user per streamer. */
export function scopeLabel(subject: readonly SubjectPart[]): string {
  if (subject.length === 0) return 'Global';
  return subject
    .map((part) => `per ${partName(part)}`)
    .join(' ')
    .replace(/^p/, 'P');
}

function partName(part: SubjectPart): string {
  if (part === 'principal') return 'user';
  if (part === 'ip') return 'IP';
  if (part === 'route') return 'route';
  const name = part
    .slice(part.indexOf(':') + 1)
    .split('.')
    .at(-1)!;
  return name.replace(/_?id$/i, '').replaceAll('_', ' ') || name;
}
