import { bearerAuth } from '@tollgate/service-kit/auth';
import type { FastifyInstance } from 'fastify';
import { sendProblem, serviceProblems } from '../problem.ts';
import { IdParams, StreamerRequest } from '../schemas.ts';
import type { Services } from '../services.ts';
import { queries } from '../sql/queries.ts';
import { newId } from './effect.ts';
import { routeConfig } from './route-config.ts';

interface StreamerRow {
  id: string;
  name: string;
  platform: string;
  channel: string;
  status: string;
  viewers: number;
  votes: string;
  event_count: number;
  clip_count: number;
  updated_at: Date;
}

/** `POST /api/streamers` (submit one, limited per user) and `GET /api/streamers/:id`. */
export function streamerRoutes(app: FastifyInstance, services: Services): void {
  const { database } = services;
  const onRequest = bearerAuth(services.users, 'streamer', services.failedAuth);

  app.post(
    '/api/streamers',
    { onRequest, config: routeConfig(services, 'POST', '/api/streamers'), schema: { body: StreamerRequest } },
    async (request, reply) => {
      const body = request.body as StreamerRequest;
      const [row] = await database.query(queries.insertStreamer, [
        newId('str'),
        request.principal,
        body.name,
        body.platform,
        body.channel,
      ]);
      return reply.code(201).send(row);
    },
  );

  app.get(
    '/api/streamers/:id',
    { onRequest, config: { tollgate: false }, schema: { params: IdParams } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const [row] = await database.query<StreamerRow>(queries.findStreamer, [id]);
      if (row === undefined) {
        return sendProblem(reply, {
          ...serviceProblems['streamer-not-found'],
          detail: `There is no streamer ${id}.`,
        });
      }
      return { ...row, votes: Number(row.votes), updated_at: new Date(row.updated_at).toISOString() };
    },
  );
}
