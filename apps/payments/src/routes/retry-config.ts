import type { FastifyInstance } from 'fastify';
import { createRetryClient, RETRYABLE_STATUSES } from 'tollgate/client';

/** The retry strategy the service recommends, in the shape `GET /api/v1/retry-config` answers. */
export interface RetryConfig {
  readonly max_retries: number;
  readonly base_delay_ms: number;
  readonly max_delay_ms: number;
  readonly jitter: 'full';
  readonly retryable_statuses: readonly number[];
  readonly retry_after: string;
  readonly idempotency_key: string;
}

/**
 * tollgate/client's defaults, read from the client itself rather than copied: a client on its
 * defaults is driven against a server that always answers 503, with time, sleep and jitter
 * injected (jitter pinned to the top of its range), and its attempts and waits are observed.
 * One source of truth: change the client's defaults and this endpoint follows.
 */
export async function clientDefaults(): Promise<
  Pick<RetryConfig, 'max_retries' | 'base_delay_ms' | 'max_delay_ms'>
> {
  const observe = async (maxAttempts?: number) => {
    const delays: number[] = [];
    let attempts = 0;
    const client = createRetryClient({
      ...(maxAttempts && { maxAttempts }),
      budget: false,
      breaker: false,
      now: () => 0,
      random: () => 1,
      sleep: async (ms) => void delays.push(ms),
      fetch: async () => {
        attempts++;
        return new Response(null, { status: 503 });
      },
    });
    await client.fetch('http://retry-config.invalid/', { method: 'GET' }).catch(() => undefined);
    return { attempts, delays };
  };
  const defaults = await observe();
  const long = await observe(64);
  return {
    max_retries: defaults.attempts - 1,
    base_delay_ms: defaults.delays[0] ?? 0,
    max_delay_ms: Math.max(...long.delays),
  };
}

/** `GET /api/v1/retry-config`: public, like the seed's example. */
export async function retryConfigRoutes(app: FastifyInstance): Promise<void> {
  const config: RetryConfig = {
    ...(await clientDefaults()),
    jitter: 'full',
    retryable_statuses: [...RETRYABLE_STATUSES],
    retry_after:
      'Wait at least Retry-After (whole seconds or an HTTP date) on 429, 503 and 409; never retry earlier.',
    idempotency_key:
      'Send one Idempotency-Key (16-255 characters of A-Z a-z 0-9 - _, e.g. a UUID v4) per logical payment and reuse it on every retry; keys are scoped to your API key and kept 24 h.',
  };
  const body = JSON.stringify(config);
  app.get(
    '/api/v1/retry-config',
    {
      config: { tollgate: {} },
      schema: {
        summary: 'The recommended client retry strategy (tollgate/client defaults).',
        tags: ['configuration'],
      },
    },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(body),
  );
}
