/**
 * What `bench/http.ts` measures: the servers (one child process each) and the contenders (a
 * server under one workload). Several contenders may share a server: their rounds never overlap.
 */

/** Servers built on Fastify (see `fastify-server.ts`). */
export const fastifyServers = [
  'fastify',
  'fastify+tollgate(memory)',
  'fastify+tollgate(redis)',
  'fastify+@fastify/rate-limit(memory)',
  'fastify+@fastify/rate-limit(redis)',
  'fastify+tollgate idem(tiered)',
  'fastify+tollgate idem(redis)',
  'fastify+@node-idempotency',
] as const;

/** Servers built on Express (see `express-server.ts`). */
export const expressServers = [
  'express',
  'express+tollgate(memory)',
  'express+express-rate-limit(memory)',
  'express+tollgate idem(tiered)',
  'express+tollgate idem(redis)',
  'express+express-idempotency',
] as const;

export type FastifyServer = (typeof fastifyServers)[number];
export type ExpressServer = (typeof expressServers)[number];
export type Server = FastifyServer | ExpressServer;

/** Servers whose idempotency store is tiered: each gets a database of its own. */
export const tieredServers: readonly Server[] = [
  'fastify+tollgate idem(tiered)',
  'express+tollgate idem(tiered)',
];

/**
 * `get`: `GET /`. `post`: `POST /pay` with a JSON body and a key, on a route without idempotency.
 * `replay`: `POST /pay` with one key completed before the rounds, so every request is a replay.
 * `new-key`: `POST /pay` with a fresh key per request, so every request claims and completes.
 */
export type Workload = 'get' | 'post' | 'replay' | 'new-key';

export interface Contender {
  readonly name: string;
  readonly server: Server;
  readonly workload: Workload;
}

const on = (server: Server, workload: Workload, name: string = server): Contender => ({
  name,
  server,
  workload,
});

export const contenders: readonly Contender[] = [
  on('fastify', 'get'),
  on('fastify+tollgate(memory)', 'get'),
  on('fastify+tollgate(redis)', 'get'),
  on('fastify+@fastify/rate-limit(memory)', 'get'),
  on('fastify+@fastify/rate-limit(redis)', 'get'),
  on('fastify', 'post', 'fastify POST (bare)'),
  on('fastify+tollgate idem(tiered)', 'replay', 'fastify+tollgate(tiered) replay'),
  on('fastify+tollgate idem(redis)', 'replay', 'fastify+tollgate(redis idem) replay'),
  on('fastify+@node-idempotency', 'replay', 'fastify+@node-idempotency replay'),
  on('fastify+tollgate idem(tiered)', 'new-key', 'fastify+tollgate(tiered) new key'),
  on('fastify+tollgate idem(redis)', 'new-key', 'fastify+tollgate(redis idem) new key'),
  on('fastify+@node-idempotency', 'new-key', 'fastify+@node-idempotency new key'),
  on('express', 'get'),
  on('express+tollgate(memory)', 'get'),
  on('express+express-rate-limit(memory)', 'get'),
  on('express', 'post', 'express POST (bare)'),
  on('express+tollgate idem(tiered)', 'replay', 'express+tollgate(tiered) replay'),
  on('express+tollgate idem(redis)', 'replay', 'express+tollgate(redis idem) replay'),
  on('express+express-idempotency', 'replay', 'express+express-idempotency replay'),
];

/**
 * The race rows: every server whose `POST /race` is protected, plus the bare Fastify route as
 * the control that shows the race really races (it must run the effect on every request).
 */
export const racers: readonly { readonly name: string; readonly server: Server }[] = [
  { name: 'fastify+tollgate(tiered)', server: 'fastify+tollgate idem(tiered)' },
  { name: 'fastify+tollgate(redis idem)', server: 'fastify+tollgate idem(redis)' },
  { name: 'fastify+@node-idempotency', server: 'fastify+@node-idempotency' },
  { name: 'express+tollgate(tiered)', server: 'express+tollgate idem(tiered)' },
  { name: 'express+tollgate(redis idem)', server: 'express+tollgate idem(redis)' },
  { name: 'express+express-idempotency', server: 'express+express-idempotency' },
  { name: 'fastify, no idempotency (control)', server: 'fastify' },
];
