/**
 * What the generated OpenAPI document cannot learn from the route schemas, added once to the
 * whole document (`@fastify/swagger`'s `transformObject`): the problem media type of every
 * error, the refusals every authenticated route can answer, the headers the service sends, and
 * the `Idempotency-Key` that `POST /api/v1/payments` requires.
 */

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI 3.0 document, walked generically
type Json = Record<string, any>;

const text = { type: 'string' };
const integer = { type: 'integer' };

const rateLimitHeaders: Json = {
  RateLimit: {
    description:
      "draft-ietf-httpapi-ratelimit-headers-10: each policy's remaining quota (r) and seconds to its reset (t).",
    schema: text,
  },
  'RateLimit-Policy': {
    description: 'The policies that apply: quota (q) per window (w, seconds).',
    schema: text,
  },
  'X-RateLimit-Limit': { description: "The most constrained policy's quota.", schema: integer },
  'X-RateLimit-Remaining': { description: 'What is left of it.', schema: integer },
  'X-RateLimit-Reset': { description: 'Seconds until it is whole again.', schema: integer },
};
const requestId: Json = {
  'X-Request-Id': {
    description: "This request's id (the client's own when 1–64 of A-Za-z0-9._-).",
    schema: text,
  },
};
const retryAfter: Json = {
  'Retry-After': {
    description: 'Seconds to wait before retrying; never earlier than the truth.',
    schema: integer,
  },
};

/** The refusals an authenticated, rate-limited route can answer beyond its own. */
const refusals: Record<string, string> = {
  '400': 'Bad input: the problem names the field (`errors`).',
  '401': "No valid API key (`Authorization: Bearer <key>`); paid for by the caller's address (`per-ip`).",
  '429': 'A rate limit is spent: `policies` names it, `Retry-After` says when to come back.',
  '503': 'The database (or the rate-limit store) cannot answer now: retry after `Retry-After`.',
};

const problemSchema: Json = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: { type: text, title: text, status: integer, detail: text },
  additionalProperties: true,
};

const idempotencyKey: Json = {
  in: 'header',
  name: 'Idempotency-Key',
  required: true,
  description:
    'One key per logical payment, reused on every retry: 16–255 of A-Z a-z 0-9 _ -, bare or as a structured-field string ("…"). The same key with another body is 422; while the first request runs, 409 with Retry-After.',
  schema: { type: 'string', pattern: '^"?[A-Za-z0-9_-]{16,255}"?$' },
};

/** `document` with the service's answers described as they are sent. */
export function describeAnswers<T extends Json>(document: T): T {
  for (const [path, operations] of Object.entries(document.paths ?? {}) as [string, Json][]) {
    for (const [method, operation] of Object.entries(operations) as [string, Json][]) {
      const api = path.startsWith('/api/v1/');
      const authenticated = api && path !== '/api/v1/retry-config';
      operation.responses ??= {};
      const responses: Json = operation.responses;
      if (authenticated) {
        for (const [status, description] of Object.entries(refusals)) {
          responses[status] ??= { description };
        }
      } else if (api) {
        // A public route is counted per client address (`per-ip-public`).
        responses['429'] ??= { description: refusals['429'] };
      }
      for (const [status, response] of Object.entries(responses) as [string, Json][]) {
        const error = /^[45]/.test(status);
        if (error) {
          const schema = response.content?.['application/json']?.schema ?? problemSchema;
          response.content = { 'application/problem+json': { schema } };
        }
        response.headers = {
          ...response.headers,
          ...requestId,
          ...(api && rateLimitHeaders),
          ...((status === '429' || status === '503' || status === '409') && retryAfter),
        };
      }
      if (path === '/api/v1/payments' && method === 'post') {
        operation.parameters = [
          ...(operation.parameters ?? []).filter((parameter: Json) => parameter.name !== 'idempotency-key'),
          idempotencyKey,
        ];
        const created: Json = responses['201'] ?? {};
        created.description =
          'The payment (a replay of the same key answers the first answer, byte for byte).';
        created.headers = {
          ...created.headers,
          Location: { description: "The payment's URL.", schema: text },
          'Idempotent-Replayed': { description: '`true` on a replay of a completed key.', schema: text },
        };
        responses['409'] ??= {
          description: 'The same key is still being processed: retry after Retry-After.',
        };
        responses['422'] ??= {
          description: 'The key was used with another body, or the amount makes no sense.',
        };
        for (const status of ['409', '422']) {
          responses[status].content ??= { 'application/problem+json': { schema: problemSchema } };
          responses[status].headers = { ...responses[status].headers, ...requestId, ...rateLimitHeaders };
        }
        responses['409'].headers = { ...responses['409'].headers, ...retryAfter };
      }
    }
  }
  return document;
}
