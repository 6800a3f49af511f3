/**
 * Servers cache scripts by SHA1, and operators may preload them (SCRIPT LOAD) or allow-list
 * them: every script tollgate sends is pinned here, so a changed script is a reviewed change.
 * Update a hash only on purpose, with the Lua change that moved it.
 */
import { algorithmNames } from 'tollgate';
import { describe, expect, it } from 'vitest';
import { rateLimitScript } from '../../src/ratelimit/stores/redis-script.ts';
import { RedisScript } from '../../src/scripting/script.ts';

const idempotencyScript = (name: string) =>
  RedisScript.fromFile(new URL(`../../src/idempotency/lua/${name}.lua`, import.meta.url)).sha;

describe('the Lua scripts tollgate ships', () => {
  it('keep the SHA1 of the rate-limit scripts', () => {
    expect({
      consume: rateLimitScript([...algorithmNames]).sha,
      admit: rateLimitScript([...algorithmNames], true).sha,
      gcraOnly: rateLimitScript(['gcra']).sha,
    }).toEqual({
      consume: '6fa9ec00bc549b69e1dc1c5eb04033b5368c28b6',
      admit: 'afeac1cf4b384183e733ca57b1c7e4e0d060430c',
      gcraOnly: 'dad26a3a82b55a8d2aaaab36d34d23fbdc40a3b2',
    });
  });

  it('keep the SHA1 of the idempotency scripts', () => {
    const names = ['claim', 'extend', 'checkpoint', 'complete', 'release'];
    expect(Object.fromEntries(names.map((name) => [name, idempotencyScript(name)]))).toEqual({
      claim: 'c5a3f6697c6b3e09e05846e443c6ed0080beceaf',
      extend: '0706fd051bc0153d0ffedc4d2896193e884db0d3',
      checkpoint: '411d6f119d265ff0083773f963585d56c0af26f7',
      complete: '910d9bcc8a9329824a126b3a02dd20acb10df1ac',
      release: '069c098b6b2305b1ef429c4fdb744f9fbc0aeeef',
    });
  });
});
