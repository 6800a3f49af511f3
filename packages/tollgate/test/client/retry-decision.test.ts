import { ErrorCode } from 'tollgate';
import { describe, expect, it } from 'vitest';
import { decideRetry } from '../../src/client/retry-decision.ts';

const response = (status: number) => ({
  kind: 'response' as const,
  response: new Response(null, { status }),
});
const failure = (sent: boolean, code = sent ? 'UND_ERR_SOCKET' : 'ECONNREFUSED') => ({
  kind: 'failure' as const,
  cause: new Error(code),
  code,
  sent,
});
const keyedPost = { method: 'POST', keyed: true };
const bareKeylessPost = { method: 'POST', keyed: false };

describe('what is retried', () => {
  it.each([408, 409, 429, 500, 502, 503, 504])('retries %i for a keyed POST', (status) => {
    expect(decideRetry(response(status), keyedPost)).toEqual({ kind: 'retry', reason: `status_${status}` });
  });

  it.each([200, 201, 400, 401, 403, 404, 422, 501])('never retries %i', (status) => {
    expect(decideRetry(response(status), keyedPost)).toEqual({ kind: 'final' });
    expect(decideRetry(response(status), { method: 'GET', keyed: false })).toEqual({ kind: 'final' });
  });

  it('retries a connection that never opened, key or not', () => {
    expect(decideRetry(failure(false), bareKeylessPost)).toEqual({ kind: 'retry', reason: 'connect' });
  });

  it('retries what may have been processed only with a key or an idempotent method', () => {
    expect(decideRetry(failure(true), bareKeylessPost)).toEqual({ kind: 'unsafe' });
    expect(decideRetry(failure(true), keyedPost)).toEqual({ kind: 'retry', reason: 'connection_lost' });
    expect(
      decideRetry(failure(true, ErrorCode.RetryAttemptTimeout), { method: 'PUT', keyed: false }),
    ).toEqual({
      kind: 'retry',
      reason: 'timeout',
    });
    expect(decideRetry(response(503), bareKeylessPost)).toEqual({ kind: 'final' });
    expect(decideRetry(response(503), { method: 'GET', keyed: false })).toEqual({
      kind: 'retry',
      reason: 'status_503',
    });
  });

  it('reads 409 as "still in flight" only when the request has a key', () => {
    expect(decideRetry(response(409), { method: 'PUT', keyed: false })).toEqual({ kind: 'final' });
    expect(decideRetry(response(429), bareKeylessPost)).toEqual({ kind: 'retry', reason: 'status_429' });
  });
});
