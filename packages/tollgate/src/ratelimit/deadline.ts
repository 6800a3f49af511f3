import { TollgateError } from '../errors.ts';

/** A store call that did not answer within its deadline. */
export class StoreTimeoutError extends TollgateError {
  override readonly name = 'StoreTimeoutError';
  constructor(ms: number) {
    super('ERR_STORE_TIMEOUT', `rate-limit store did not answer within ${ms} ms`);
  }
}

/** Settles with `work`, or rejects with StoreTimeoutError once `ms` have passed. */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(ms)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
