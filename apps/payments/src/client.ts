/**
 * `@tollgate/payments/client`: a typed client of this service's API, built on tollgate's retry
 * client. It lives with the service because it knows the service's routes; the library does not.
 */
import { type AttemptRecord, createRetryClient, type RetryClient, type RetryOptions } from 'tollgate/client';

/** The body of `POST /api/v1/payments`. */
export interface PaymentRequest {
  readonly amount: number;
  readonly currency: string;
  readonly payment_method: string;
  readonly description?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A payment as the API returns it; fields beyond these are kept as sent. */
export interface Payment {
  readonly transaction_id: string;
  readonly status: string;
  readonly amount: number;
  readonly currency: string;
  readonly [field: string]: unknown;
}

/** A call's answer with what the retry client knows about it. */
export interface PaymentsResult<T> {
  readonly value: T;
  /** The key sent with every attempt (POST only). Persist it to resume after a crash. */
  readonly idempotencyKey: string | undefined;
  /** The server answered from its idempotency store (`Idempotent-Replayed: true`). */
  readonly replayed: boolean;
  readonly attempts: readonly AttemptRecord[];
}

/** Options of one call. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** This call's deadline, instead of the retry client's `deadlineMs`. */
  readonly deadlineMs?: number;
}

/** Options of `payments.create`. */
export interface CreateOptions extends CallOptions {
  /** Supply the key yourself, e.g. one persisted before a crash. @default a new UUID v4 */
  readonly idempotencyKey?: string;
}

/** Options of {@link createPaymentsClient}. */
export interface PaymentsClientOptions {
  /** @default 'http://localhost:8000' */
  readonly baseUrl?: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  readonly apiKey: string;
  /** A retry client to share (and its budgets and breakers), or options for a new one. @default {} */
  readonly retry?: RetryClient | RetryOptions;
}

/** A typed client of the payments API; every call goes through the retry client. */
export interface PaymentsClient {
  readonly payments: {
    /** `POST /api/v1/payments`, with one idempotency key for all attempts. */
    create(body: PaymentRequest, options?: CreateOptions): Promise<PaymentsResult<Payment>>;
    /** `GET /api/v1/payments/{transaction_id}`. */
    get(transactionId: string, options?: CallOptions): Promise<PaymentsResult<Payment>>;
  };
  /** `GET /api/v1/retry-config`: the retry settings the service recommends. */
  retryConfig(options?: CallOptions): Promise<PaymentsResult<Record<string, unknown>>>;
  /** `GET /api/v1/rate-limits`: the caller's current limits. */
  rateLimits(options?: CallOptions): Promise<PaymentsResult<Record<string, unknown>>>;
  /** `GET /api/v1/audit-logs`: the caller's audit trail. */
  auditLogs(options?: CallOptions): Promise<PaymentsResult<unknown>>;
}

/**
 * A client of the payments API. Final non-2xx answers (400, 401, 404, 422…) reject with a
 * {@link PaymentsApiError}; giving up on retries rejects with a `RetryError`.
 *
 * @example
 * const api = createPaymentsClient({ apiKey: 'test-api-key' });
 * const { value: payment, idempotencyKey } = await api.payments.create({
 *   amount: 99.99, currency: 'USD', payment_method: 'credit_card',
 * });
 */
export function createPaymentsClient(options: PaymentsClientOptions): PaymentsClient {
  const { baseUrl = 'http://localhost:8000', apiKey, retry = {} } = options;
  const client = 'request' in retry ? retry : createRetryClient(retry);
  const headers = { authorization: `Bearer ${apiKey}`, accept: 'application/json' };

  async function call<T>(method: string, path: string, init: CreateOptions & { body?: unknown } = {}) {
    const { body, ...rest } = init;
    const result = await client.request(new URL(path, baseUrl), {
      ...rest,
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { response, idempotencyKey, attempts } = result;
    const parsed = parseBody(await response.text());
    if (!response.ok) throw new PaymentsApiError(response.status, parsed, idempotencyKey);
    const replayed = response.headers.get('idempotent-replayed') === 'true';
    return { value: parsed as T, idempotencyKey, replayed, attempts };
  }

  return {
    payments: {
      create: (body, init) => call<Payment>('POST', '/api/v1/payments', { ...init, body }),
      get: (id, init) => call<Payment>('GET', `/api/v1/payments/${encodeURIComponent(id)}`, init),
    },
    retryConfig: (init) => call('GET', '/api/v1/retry-config', init),
    rateLimits: (init) => call('GET', '/api/v1/rate-limits', init),
    auditLogs: (init) => call('GET', '/api/v1/audit-logs', init),
  };
}

/**
 * The payments API answered with a final non-2xx status (400, 401, 404, 422…). `problem` is the
 * parsed body (RFC 9457 problem+json when the server sends one).
 */
export class PaymentsApiError extends Error {
  override readonly name = 'PaymentsApiError';
  /** Stable: match on it, never on `message`. The service's code, not one of tollgate's. */
  readonly code = 'PAYMENTS_API_ERROR';

  constructor(
    readonly status: number,
    readonly problem: unknown,
    readonly idempotencyKey: string | undefined,
  ) {
    super(`payments API answered ${status}${describe(problem)}`);
  }
}

function describe(problem: unknown): string {
  if (typeof problem !== 'object' || problem === null) return '';
  const { title, detail } = problem as { title?: unknown; detail?: unknown };
  const text = [title, detail].filter((part) => typeof part === 'string').join(': ');
  return text ? ` (${text})` : '';
}

function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
