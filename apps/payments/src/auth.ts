import { BearerKeys } from '@tollgate/service-kit/auth';
import type { Config } from './config.ts';

/** The key `npm start` accepts when no key is configured, so the README's examples work. */
export const DEVELOPMENT_API_KEY = 'test-api-key';

/**
 * The API keys the service accepts (held only as hashes, compared in constant time): from
 * `API_KEYS` (`key:principal,…`), else `API_KEY` (principal `default`), else the development key.
 * @throws {Error} when both are set (`API_KEY` would be ignored), and for what `BearerKeys.parse` refuses.
 */
export function apiKeysFrom(config: Pick<Config, 'API_KEYS' | 'API_KEY'>): BearerKeys {
  if (config.API_KEYS && config.API_KEY) {
    throw new Error('API_KEYS and API_KEY are both set: set one (API_KEY would be ignored)');
  }
  if (config.API_KEY) return BearerKeys.single('API_KEY', config.API_KEY);
  return BearerKeys.parse('API_KEYS', config.API_KEYS, DEVELOPMENT_API_KEY);
}
