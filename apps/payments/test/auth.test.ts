import { describe, expect, it } from 'vitest';
import { apiKeysFrom } from '../src/auth.ts';

const fromKeys = (API_KEYS: string) => apiKeysFrom({ API_KEYS, API_KEY: undefined });

describe('API keys from the configuration', () => {
  it('finds each principal by its key, and nobody by another string', () => {
    const keys = fromKeys('key-alice:alice, key-bob:bob,key:with:colons:carol');
    expect(keys.principalOf('Bearer key-alice')).toBe('alice');
    expect(keys.principalOf('bearer key-bob')).toBe('bob');
    expect(keys.principalOf('Bearer key:with:colons')).toBe('carol');
    for (const header of [
      undefined,
      '',
      'Bearer',
      'Bearer key-alicex',
      'Bearer key-bo',
      'Basic key-alice',
      'key-alice',
    ])
      expect(keys.principalOf(header)).toBeUndefined();
    expect(keys.development).toBe(false);
  });

  it('refuses a key listed twice, naming the pair but never the key', () => {
    for (const API_KEYS of [
      'key-alice:alice,key-alice:mallory',
      'key-alice:alice,key-bob:bob,key-alice:alice',
    ]) {
      expect(() => fromKeys(API_KEYS)).toThrow(/API_KEYS: pair \d repeats the key of an earlier pair/);
      try {
        fromKeys(API_KEYS);
      } catch (error) {
        expect((error as Error).message).not.toContain('key-alice');
      }
    }
    // One principal with two keys (a rotation) is fine.
    expect(fromKeys('old-key:alice,new-key:alice').principalOf('Bearer new-key')).toBe('alice');
  });

  it('refuses a list that names no key, and API_KEYS beside API_KEY', () => {
    for (const API_KEYS of [',', ' , ,'])
      expect(() => fromKeys(API_KEYS)).toThrow('API_KEYS names no key: every request would be refused');
    expect(() => apiKeysFrom({ API_KEYS: 'key-alice:alice', API_KEY: 'other' })).toThrow(
      'API_KEYS and API_KEY are both set',
    );
    expect(apiKeysFrom({ API_KEYS: undefined, API_KEY: 'only' }).principalOf('Bearer only')).toBe('default');
  });

  it('refuses a key no Authorization header can carry, and trims the principal', () => {
    expect(() => fromKeys('k1 : alice')).toThrow("API_KEYS: pair 1's key can never be sent");
    expect(() => fromKeys(`ok:a,${'x'.repeat(513)}:b`)).toThrow("API_KEYS: pair 2's key can never be sent");
    expect(() => apiKeysFrom({ API_KEYS: undefined, API_KEY: 'with space' })).toThrow(
      'API_KEY: the key can never be sent',
    );
    expect(fromKeys('k1: alice').principalOf('Bearer k1')).toBe('alice');
  });

  it('refuses pairs without a key or a principal', () => {
    for (const API_KEYS of ['key-alice', ':alice', 'key-alice:', 'key-alice:alice,bob'])
      expect(() => fromKeys(API_KEYS)).toThrow(/expected key:principal pairs/);
  });
});
