/** `connectionOptions`: which proxies' `X-Forwarded-For` gives a client's address, refused when unclear. */
import Fastify from 'fastify';
import { connectionOptions } from 'tollgate/fastify';
import { describe, expect, it } from 'vitest';

/** The address Fastify reads for a request from `remote` carrying `forwarded`. */
async function ipOf(trustedProxies: string | undefined, remote: string, forwarded: string) {
  const app = Fastify(connectionOptions(trustedProxies === undefined ? {} : { trustedProxies }));
  app.get('/', async (request) => request.ip);
  const answer = await app.inject({
    url: '/',
    remoteAddress: remote,
    headers: { 'x-forwarded-for': forwarded },
  });
  await app.close();
  return answer.body;
}

describe('connectionOptions({ trustedProxies })', () => {
  it('reads X-Forwarded-For behind the proxies named, and only there', async () => {
    expect(await ipOf(undefined, '10.1.2.3', '203.0.113.7')).toBe('10.1.2.3');
    expect(await ipOf('10.0.0.0/8', '10.1.2.3', '203.0.113.7')).toBe('203.0.113.7');
    expect(await ipOf('10.0.0.0/8, 127.0.0.1', '192.0.2.9', '203.0.113.7')).toBe('192.0.2.9'); // not a proxy of ours
    expect(await ipOf('1', '192.0.2.9', '198.51.100.1, 203.0.113.7')).toBe('203.0.113.7'); // one hop
    expect(await ipOf('::1/128', '::1', '2001:db8::5')).toBe('2001:db8::5');
  });

  it('refuses what is neither addresses, CIDRs nor a hop count (trusting every sender is not offered)', () => {
    for (const bad of ['true', '*', '10.0.0.0/33', '10.0.0.1/8/1', 'proxy.internal', '10.0.0.1,,', '-1'])
      expect(() => connectionOptions({ trustedProxies: bad }), bad).toThrow(TypeError);
  });
});
