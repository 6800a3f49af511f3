/** Starting the service for tests: in this process on a free port, or as its own process. */
import { type InProcessService, listenInProcess } from '../../../testkit/in-process-service.ts';
import { scratchDir as scratchDirIn } from '../../../testkit/index.ts';
import {
  type ServiceProcess,
  spawnService as spawnServiceProcess,
} from '../../../testkit/service-process.ts';
import { type AppOptions, buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openServices, type Services } from '../src/services.ts';

export const main = new URL('../src/main.ts', import.meta.url).pathname;

/** A service in this process. */
export type RunningService = InProcessService<Services>;

/** A temporary directory removed by `dispose`. */
export const scratchDir = () => scratchDirIn('payments-test-');

export async function startService(
  env: Record<string, string>,
  options: AppOptions = {},
): Promise<RunningService> {
  const services = await openServices(loadConfig({ LOG_LEVEL: 'silent', ...env }));
  const app = await buildApp(services, undefined, options);
  return listenInProcess(app, services);
}

export type { ServiceProcess } from '../../../testkit/service-process.ts';

/** The service as its own process (`node --conditions=tollgate-source --import tsx src/main.ts`). */
/** `undefined` unsets a variable this test process has. */
export function spawnService(env: Record<string, string | undefined>): Promise<ServiceProcess> {
  return spawnServiceProcess(main, env);
}

/** A payment request's parts as tests send them. */
export interface PaymentCall {
  key?: string | undefined;
  apiKey?: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export const paymentBody = {
  amount: 99.99,
  currency: 'USD',
  description: 'Premium subscription',
  payment_method: 'credit_card',
  metadata: { customer_id: 'cust_123', order_id: 'ord_456' },
};

/** `POST /api/v1/payments` with the status, headers and text of the answer. */
export async function pay(url: string, call: PaymentCall = {}) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    authorization: `Bearer ${call.apiKey ?? 'key-alice'}`,
    ...(call.key !== undefined && { 'idempotency-key': call.key }),
    ...call.headers,
  };
  const response = await fetch(`${url}/api/v1/payments`, {
    method: 'POST',
    headers,
    body: call.raw ?? JSON.stringify(call.body ?? paymentBody),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** A fresh valid idempotency key. */
export function newKey(): string {
  return `key-${crypto.randomUUID()}`;
}
