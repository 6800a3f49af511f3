import { readFileSync } from 'node:fs';

/** A statement of `./queries/<name>.sql`, read once at start-up. */
function query(name: string): string {
  return readFileSync(new URL(`./queries/${name}.sql`, import.meta.url), 'utf8');
}

/** Every statement the service runs, by name. */
export const queries = {
  insertPayment: query('insert-payment'),
  findPayment: query('find-payment'),
  settlePayment: query('settle-payment'),
  settleAudited: query('settle-audited'),
  insertAudit: query('insert-audit'),
  listAudit: query('list-audit'),
  recordCharge: query('record-charge'),
  findCharge: query('find-charge'),
  findAbandoned: query('find-abandoned'),
} as const;
