/** Configuration: an empty variable counts as unset, except a credential, which refuses to start. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { scratchDir } from './service.ts';

describe('configuration', () => {
  const dir = scratchDir();
  afterAll(() => dir.dispose());
  const file = (settings: Record<string, unknown>) => {
    const path = join(dir.path, `config-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(settings));
    return path;
  };

  it('takes the file’s value for a variable given empty, else the default', () => {
    const CONFIG_FILE = file({ RATE_LIMIT_PAYMENTS: 5, API_KEYS: 'sk_file_key_123456:alice' });
    const config = loadConfig({ CONFIG_FILE, RATE_LIMIT_PAYMENTS: '', API_KEYS: '', RATE_LIMIT_USER: '' });
    expect([config.RATE_LIMIT_PAYMENTS, config.API_KEYS, config.RATE_LIMIT_USER]).toEqual([
      5,
      'sk_file_key_123456:alice',
      100,
    ]);
    expect(loadConfig({ CONFIG_FILE, RATE_LIMIT_PAYMENTS: '7' }).RATE_LIMIT_PAYMENTS).toBe(7); // the environment wins
  });

  it("reads seed 001's DATABASE_URL (postgresql+asyncpg://) as postgresql://, and no other scheme", () => {
    const seed = 'postgresql+asyncpg://user:pass@localhost/payments';
    expect(loadConfig({ DATABASE_URL: seed }).DATABASE_URL).toBe('postgresql://user:pass@localhost/payments');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).DATABASE_URL).toBe('postgres://u@h/db');
    for (const refused of ['mysql+pymysql://u@h/db', 'postgresql+://u@h/db', 'sqlite+postgresql://x']) {
      expect(() => loadConfig({ DATABASE_URL: refused })).toThrow(
        /DATABASE_URL: expected a URL starting postgres:\/\//,
      );
    }
  });

  it('takes TRUST_PROXY as addresses, CIDRs or a hop count, and nothing else', () => {
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8,127.0.0.1' }).TRUST_PROXY).toBe('10.0.0.0/8,127.0.0.1');
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe('2');
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/^TRUST_PROXY: trustedProxies: "true" is not/);
  });

  it('refuses to start with a key setting given empty, rather than accept the development key', () => {
    for (const env of [{ API_KEYS: '' }, { API_KEY: '' }, { CONFIG_FILE: file({ API_KEYS: '' }) }]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(/(API_KEYS|API_KEY) is set but empty/);
    }
    // Unset altogether: the development key (the README's quick start).
    expect([loadConfig({}).API_KEYS, loadConfig({}).API_KEY]).toEqual([undefined, undefined]);
  });
});
