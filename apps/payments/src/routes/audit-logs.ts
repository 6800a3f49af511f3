import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { auditPage } from '../audit.ts';
import { AuthHeaders } from '../schemas.ts';
import type { Services } from '../services.ts';
import { authenticate } from './authenticate.ts';

/** Page sizes of `GET /api/v1/audit-logs`. */
export const AUDIT_PAGE = { default: 50, max: 100 } as const;

/** `GET /api/v1/audit-logs?limit=&cursor=`: the caller's trail, newest first. */
export function auditLogsRoute(app: FastifyInstance, services: Services): void {
  app.get(
    '/api/v1/audit-logs',
    {
      onRequest: authenticate(services),
      config: { tollgate: {} },
      schema: {
        summary: "The caller's audit trail, newest first; pass next_cursor as cursor for older entries.",
        tags: ['audit'],
        headers: AuthHeaders,
        querystring: Type.Object(
          {
            limit: Type.Optional(
              Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: `1 to ${AUDIT_PAGE.max}` }),
            ),
            cursor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,17}$' })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const query = request.query as { limit?: string; cursor?: string };
      const limit = query.limit === undefined ? AUDIT_PAGE.default : Number(query.limit);
      const page = await auditPage(services.database, request.principal!, query.cursor ?? null, limit);
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(page));
    },
  );
}
