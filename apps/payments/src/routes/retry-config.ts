import type { FastifyInstance } from 'fastify';
import { RETRYABLE_STATUSES, retryDefaults } from 'tollgate/client';
import type { Config } from '../config.ts';
import { publicPolicy } from '../limits.ts';

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

/** tollgate/client's defaults, read from the one place the client applies them. */
function clientDefaults(): Pick<RetryConfig, 'max_retries' | 'base_delay_ms' | 'max_delay_ms'> {
  const defaults = retryDefaults;
  return {
    max_retries: defaults.maxAttempts - 1,
    base_delay_ms: defaults.baseDelayMs,
    max_delay_ms: defaults.maxDelayMs,
  };
}

/** `GET /api/v1/retry-config`: public, like the seed's example. */
export async function retryConfigRoutes(app: FastifyInstance, settings: Config): Promise<void> {
  const config: RetryConfig = {
    ...clientDefaults(),
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
      // Counted per client address (it needs no key), so it carries X-RateLimit-* like every API route.
      config: { tollgate: { policies: [publicPolicy(settings)] } },
      schema: {
        summary: 'The recommended client retry strategy (tollgate/client defaults).',
        tags: ['configuration'],
      },
    },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(body),
  );
}
