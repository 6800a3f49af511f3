import { bearerAuth } from '@tollgate/service-kit/auth';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type ServiceProblem, sendProblem, serviceProblems } from '../problem.ts';
import { EventsRequest, MediaRequest, StatusRequest } from '../schemas.ts';
import type { Services } from '../services.ts';
import { queries } from '../sql/queries.ts';
import { json, withKey } from './effect.ts';
import { routeConfig } from './route-config.ts';

/**
 * 422 naming the streamers a batch refers to that do not exist, or undefined. Checked before the
 * batch's key is claimed, like bad input: nothing is written or stored, and the key stays free
 * for the batch once those streamers exist (streamers are never deleted, so the ones found here
 * are still there when the batch is written).
 */
async function unknownStreamers(
  services: Services,
  ids: readonly string[],
): Promise<ServiceProblem | undefined> {
  const wanted = [...new Set(ids)];
  const known = new Set(
    (await services.database.query<{ id: string }>(queries.knownStreamers, [wanted])).map((row) => row.id),
  );
  const unknown = wanted.filter((id) => !known.has(id));
  if (unknown.length === 0) return undefined;
  return {
    ...serviceProblems['unknown-streamer'],
    detail: `No streamer ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? '…' : ''}; nothing of this batch was written.`,
    unknown_streamers: unknown.slice(0, 100),
  };
}

/**
 * The workers' routes (`Authorization: Bearer <worker key>`, `X-Idempotency-Key` required):
 * event and clip batches stored exactly once per item — by `(streamer_id, external_id)` and by
 * clip id, within a batch and across batches — and streamer status.
 */
export function workerRoutes(app: FastifyInstance, services: Services): void {
  const onRequest = bearerAuth(services.workers, 'streamer-workers', services.failedAuth);

  app.post(
    '/internal/worker/events',
    {
      onRequest,
      config: routeConfig(services, 'POST', '/internal/worker/events', true),
      schema: { body: EventsRequest },
    },
    async (request, reply) => {
      const { events } = request.body as EventsRequest;
      const refused = await unknownStreamers(
        services,
        events.map((event) => event.streamer_id),
      );
      if (refused) return sendProblem(reply, refused);
      return withKey(request, reply, services, async (tx) => {
        const rows = events.map((event) => ({ ...event, data: event.data ?? null }));
        const inserted = await tx.query(queries.insertEvents, [JSON.stringify(rows), request.principal]);
        return json(200, { accepted: inserted.length, duplicates: events.length - inserted.length });
      });
    },
  );

  app.post(
    '/internal/worker/media',
    {
      onRequest,
      config: routeConfig(services, 'POST', '/internal/worker/media', true),
      schema: { body: MediaRequest },
    },
    async (request, reply) => {
      const { clips } = request.body as MediaRequest;
      const refused = await unknownStreamers(
        services,
        clips.map((clip) => clip.streamer_id),
      );
      if (refused) return sendProblem(reply, refused);
      return withKey(request, reply, services, async (tx) => {
        const rows = clips.map((clip) => ({ title: null, duration_s: null, ...clip }));
        const inserted = await tx.query(queries.insertClips, [JSON.stringify(rows), request.principal]);
        return json(200, { accepted: inserted.length, duplicates: clips.length - inserted.length });
      });
    },
  );

  app.post(
    '/internal/worker/streamer-status',
    {
      onRequest,
      config: routeConfig(services, 'POST', '/internal/worker/streamer-status'),
      schema: { body: StatusRequest },
    },
    async (request, reply): Promise<FastifyReply> => {
      const body = request.body as StatusRequest;
      const [row] = await services.database.query<{
        id: string;
        status: string;
        viewers: number;
        updated_at: Date;
      }>(queries.setStreamerStatus, [body.streamer_id, body.status, body.viewers ?? null]);
      if (row === undefined) {
        return sendProblem(reply, {
          ...serviceProblems['unknown-streamer'],
          detail: `No streamer ${body.streamer_id}; nothing was changed.`,
        });
      }
      return reply.code(200).send({
        streamer_id: row.id,
        status: row.status,
        viewers: row.viewers,
        updated_at: new Date(row.updated_at).toISOString(),
      });
    },
  );
}
