import { claimDefaults } from '../idempotency/options.ts';
import type { Duration } from './duration.ts';
import type { Path, Reader } from './reader.ts';
import { parseRoute } from './route-pattern.ts';
import type { IdempotencyRow, KeyRow } from './rows.ts';

const fields = ['route', 'key', 'required', 'storage', 'ttl', 'lease', 'mismatchStatus', 'exclude', 'notes'];
const keyFields = ['header', 'body', 'generated', 'label'];
const keyExample = '{ header: Idempotency-Key } or { body: message.successful_payment.invoice_payload }';
const headerName = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const dottedPath = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
// The engine's default, written in hours as TTLs are (`24h`, not `1d`).
const defaultTtl: Duration = { ms: claimDefaults.ttlMs, text: `${claimDefaults.ttlMs / 3_600_000}h` };

const rowExample = '{ route: POST /api/votes, key: { header: Idempotency-Key } }';

/** Reads one entry of `idempotency:`; `undefined` (problems recorded) when it is unusable. */
export function readIdempotencyRow(reader: Reader, value: unknown, path: Path): IdempotencyRow | undefined {
  const row = reader.mapping(value, path, fields, rowExample);
  if (row === undefined) return undefined;
  let route: IdempotencyRow['route'] | undefined;
  if (reader.present(row, 'route', path, 'POST /api/votes')) {
    const text = reader.text(row.route, [...path, 'route'], 'route: POST /api/votes');
    const parsed = text === undefined ? undefined : parseRoute(text, true);
    if (parsed?.ok === false) {
      reader.problem(
        [...path, 'route'],
        parsed.message,
        'Write the method and the template as the app registers it, e.g. POST /api/votes/:id.',
      );
    }
    if (parsed?.ok) route = parsed.route;
  }
  const key = reader.present(row, 'key', path, '{ header: Idempotency-Key }')
    ? readKey(reader, row.key, [...path, 'key'])
    : undefined;
  const required = row.required === undefined ? undefined : reader.flag(row.required, [...path, 'required']);
  if (key?.kind === 'header' && key.generated && required === true) {
    reader.problem(
      [...path, 'required'],
      'a generated key is optional by definition (the server derives one when the header is absent).',
      'Write required: false, or drop generated.',
    );
  }
  const ttl = row.ttl === undefined ? defaultTtl : reader.duration(row.ttl, [...path, 'ttl']);
  const lease = row.lease === undefined ? undefined : reader.duration(row.lease, [...path, 'lease']);
  const mismatchStatus =
    row.mismatchStatus === undefined
      ? undefined
      : reader.choice(row.mismatchStatus, [...path, 'mismatchStatus'], [422, 409] as const);
  const exclude = readExclude(reader, row.exclude, [...path, 'exclude']);
  const storage =
    row.storage === undefined
      ? undefined
      : reader.text(row.storage, [...path, 'storage'], 'storage: Redis + votes.idempotency_key');
  const notes =
    row.notes === undefined
      ? undefined
      : reader.text(row.notes, [...path, 'notes'], 'notes: Prevent duplicate votes.');
  if (route === undefined || key === undefined || ttl === undefined || exclude === undefined)
    return undefined;
  return {
    route,
    key,
    required: required ?? !(key.kind === 'header' && key.generated),
    storage,
    ttl,
    lease,
    mismatchStatus,
    exclude,
    notes,
  };
}

function readKey(reader: Reader, value: unknown, path: Path): KeyRow | undefined {
  if (typeof value === 'string') {
    reader.problem(
      path,
      'must say where the key is.',
      `Write { header: ${value} } for a header, or { body: ${value} } for a body field.`,
    );
    return undefined;
  }
  const key = reader.mapping(value, path, keyFields, keyExample);
  if (key === undefined) return undefined;
  const hasHeader = key.header !== undefined;
  const hasBody = key.body !== undefined;
  if (hasHeader === hasBody) {
    reader.problem(
      path,
      hasHeader ? 'names both a header and a body field.' : 'names neither a header nor a body field.',
      `Write exactly one: ${keyExample}.`,
    );
    return undefined;
  }
  if (hasHeader) {
    if (key.label !== undefined)
      reader.problem([...path, 'label'], 'applies to body keys only.', 'Remove label.');
    const name = reader.matching(
      key.header,
      [...path, 'header'],
      headerName,
      'a header name',
      'header: Idempotency-Key',
    );
    const generated =
      key.generated === undefined ? false : reader.flag(key.generated, [...path, 'generated']);
    return name === undefined || generated === undefined ? undefined : { kind: 'header', name, generated };
  }
  if (key.generated !== undefined) {
    reader.problem(
      [...path, 'generated'],
      'applies to header keys only: a body key is always in the body.',
      'Remove generated.',
    );
  }
  const bodyPath = readBodyPath(
    reader,
    key.body,
    [...path, 'body'],
    'body: message.successful_payment.invoice_payload',
  );
  const label =
    key.label === undefined
      ? 'Body field'
      : reader.text(key.label, [...path, 'label'], 'label: Telegram payload');
  return bodyPath === undefined || label === undefined ? undefined : { kind: 'body', path: bodyPath, label };
}

function readExclude(reader: Reader, value: unknown, path: Path): readonly string[] | undefined {
  if (value === undefined) return [];
  const list = reader.list(value, path, 'exclude: [metadata.trace_id]');
  if (list === undefined) return undefined;
  const paths = list.map((item, index) => readBodyPath(reader, item, [...path, index], 'metadata.trace_id'));
  return paths.every((item) => item !== undefined) ? (paths as string[]) : undefined;
}

function readBodyPath(reader: Reader, value: unknown, path: Path, example: string): string | undefined {
  return reader.matching(value, path, dottedPath, 'a dotted path into the JSON body', example);
}
