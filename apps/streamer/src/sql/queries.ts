import { readFileSync } from 'node:fs';

function query(name: string): string {
  return readFileSync(new URL(`./queries/${name}.sql`, import.meta.url), 'utf8');
}

/** Every statement the service runs, by name, read once at start-up from `./queries/*.sql`. */
export const queries = {
  insertStreamer: query('insert-streamer'),
  findStreamer: query('find-streamer'),
  setStreamerStatus: query('set-streamer-status'),
  debitWallet: query('debit-wallet'),
  creditWallet: query('credit-wallet'),
  findBalance: query('find-balance'),
  insertLedger: query('insert-ledger'),
  listLedger: query('list-ledger'),
  insertVote: query('insert-vote'),
  addVotes: query('add-votes'),
  insertWithdrawal: query('insert-withdrawal'),
  insertInvoice: query('insert-invoice'),
  findInvoice: query('find-invoice'),
  lockInvoiceByPayload: query('lock-invoice-by-payload'),
  findInvoiceByPayload: query('find-invoice-by-payload'),
  insertPayment: query('insert-payment'),
  markInvoicePaid: query('mark-invoice-paid'),
  findPaymentCharge: query('find-payment-charge'),
  insertUnmatchedPayment: query('insert-unmatched-payment'),
  knownStreamers: query('known-streamers'),
  insertEvents: query('insert-events'),
  insertClips: query('insert-clips'),
} as const;
