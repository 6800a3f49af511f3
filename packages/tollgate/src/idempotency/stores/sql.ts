import { readFileSync } from 'node:fs';
import { IdempotencyStoreError } from '../errors.ts';
import { applyMigrations, type MigrateOptions } from '../migrate.ts';
import type { Checkpoint, JsonValue, RecordState, RecordView } from '../record.ts';
import type { ClaimRequest, ClaimResult, Completion, FenceResult, IdempotencyStore } from '../store.ts';
import type { SqlDatabase } from './sql-session.ts';

/** The statements of the SQL stores, read once from `../sql/queries/*.sql`. */
const statement = (name: string) => ({
  name: `tollgate_idempotency_${name}`,
  text: readFileSync(new URL(`../sql/queries/${name}.sql`, import.meta.url), 'utf8'),
});
const statements = {
  claim: statement('claim'),
  record: statement('record'),
  extend: statement('extend'),
  checkpoint: statement('checkpoint'),
  complete: statement('complete'),
  release: statement('release'),
  sweep: statement('sweep'),
  forget: statement('forget'),
};

/** A row of claim.sql or record.sql. */
interface ClaimRow {
  claimed: boolean;
  fence: string | null;
  checkpoint_name: string | null;
  checkpoint_data: JsonValue;
  state: RecordState;
  fingerprint: string;
  lease_remaining_ms: number;
  expires_in_ms: number;
  response_status: number | null;
  response_headers: [string, string][] | null;
  response_body: Uint8Array | null;
  response_body_omitted: boolean | null;
}

const stale: FenceResult = { ok: false, reason: 'stale-fence' };

/**
 * The idempotency store over PostgreSQL's SQL, written once: a unique scope,
 * `INSERT … ON CONFLICT DO UPDATE … WHERE` for the claim, a `fence` column compared by every
 * write, and the database's `clock_timestamp()` for every lease and expiry. Each driver's store
 * (`pg`, PGlite) gives it a {@link SqlDatabase} and fills one primitive, {@link over}: the same
 * store on the caller's connection, which {@link within} binds. Run the migrations first (`migrate`).
 */
export abstract class SqlIdempotencyStore<Connection> implements IdempotencyStore {
  /** Set on a store bound by {@link within}: the store it was bound from. */
  private boundFrom: this | undefined;

  constructor(private readonly database: SqlDatabase) {}

  /**
   * For a store bound by {@link within}: the store outside the transaction, which renews
   * leases and releases claims once the transaction is over. Undefined otherwise.
   */
  get home(): this | undefined {
    return this.boundFrom;
  }

  /**
   * Applies tollgate's migrations that this database has not recorded yet — or, with
   * `options`, an app's own numbered `.sql` files (`{ directory, table }`): the runner of
   * `migrate(db, options)` from `tollgate/postgres`, on this store's database.
   */
  migrate(options?: MigrateOptions): Promise<string[]> {
    return applyMigrations(this.database, options);
  }

  /**
   * This store, running every statement on `connection` — typically inside the caller's open
   * transaction, so a claim and its completion commit or roll back with the business write.
   */
  within(connection: Connection): this {
    const bound = this.over(connection);
    bound.boundFrom = this.boundFrom ?? this;
    return bound;
  }

  /** A store of this class, with this one's settings, running its statements on `connection`. */
  protected abstract over(connection: Connection): this;

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { scope, fingerprint, leaseMs, ttlMs } = request;
    let [row] = await this.run<ClaimRow>('claim', [scope, fingerprint, leaseMs, ttlMs]);
    // Three tries: the row a racing claimant committed, or a sweep between two statements.
    for (let attempt = 0; row === undefined && attempt < 3; attempt++) {
      [row] = await this.run<ClaimRow>('record', [scope]);
      if (row === undefined) [row] = await this.run<ClaimRow>('claim', [scope, fingerprint, leaseMs, ttlMs]);
    }
    if (row === undefined) throw new IdempotencyStoreError('The scope was neither claimable nor readable.');
    if (row.claimed) {
      const checkpoint: Checkpoint | null =
        row.checkpoint_name === null ? null : { name: row.checkpoint_name, data: row.checkpoint_data };
      return { claimed: true, fence: Number(row.fence), checkpoint };
    }
    return { claimed: false, record: viewOf(row) };
  }

  extend(scope: string, fence: number, leaseMs: number): Promise<FenceResult> {
    return this.fenced('extend', [scope, String(fence), leaseMs]);
  }

  checkpoint(scope: string, fence: number, checkpoint: Checkpoint): Promise<FenceResult> {
    return this.fenced('checkpoint', [
      scope,
      String(fence),
      checkpoint.name,
      JSON.stringify(checkpoint.data),
    ]);
  }

  complete({ scope, fence, response, ttlMs }: Completion): Promise<FenceResult> {
    const { status, headers, body, bodyOmitted } = response;
    return this.fenced('complete', [
      scope,
      String(fence),
      status,
      JSON.stringify(headers),
      body,
      bodyOmitted,
      ttlMs,
    ]);
  }

  release(scope: string, fence: number): Promise<FenceResult> {
    return this.fenced('release', [scope, String(fence)]);
  }

  async sweep(limit: number): Promise<number> {
    const [row] = await this.run<{ swept: number }>('sweep', [limit]);
    return row?.swept ?? 0;
  }

  async forget(scope: string, fence?: number): Promise<boolean> {
    return (
      (await this.run<{ ok: true }>('forget', [scope, fence === undefined ? null : String(fence)])).length ===
      1
    );
  }

  private async fenced(name: keyof typeof statements, params: unknown[]): Promise<FenceResult> {
    const rows = await this.run<{ ok: true }>(name, params);
    return rows.length === 1 ? { ok: true } : stale;
  }

  private run<Row>(name: keyof typeof statements, params: readonly unknown[]): Promise<Row[]> {
    const { name: statementName, text } = statements[name];
    return this.database.query<Row>(statementName, text, params);
  }
}

function viewOf(row: ClaimRow): RecordView {
  return {
    state: row.state,
    fingerprint: row.fingerprint,
    leaseRemainingMs: Number(row.lease_remaining_ms),
    expiresInMs: Number(row.expires_in_ms),
    response:
      row.response_status === null
        ? null
        : {
            status: row.response_status,
            headers: row.response_headers ?? [],
            body: row.response_body ?? new Uint8Array(),
            bodyOmitted: row.response_body_omitted === true,
          },
  };
}
