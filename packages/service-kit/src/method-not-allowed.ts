import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { defineProblems, sendProblem } from 'tollgate/fastify';

const methodProblems = defineProblems({
  'method-not-allowed': { status: 405, title: 'Method Not Allowed' },
});

/**
 * Watches the routes `app` registers from now on, and returns what its not-found handler
 * calls first: for a path the service has, but not with this method, 405 problem+json with
 * `Allow` listing the methods it has (RFC 9110 §15.5.6) — so `PUT /api/v1/payments` says the
 * route is there and takes POST, instead of 404. Undefined when no route has the path.
 */
export function methodNotAllowed(
  app: FastifyInstance,
): (request: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined {
  const routes: { readonly path: RegExp; readonly method: string }[] = [];
  app.addHook('onRoute', (route) => {
    const path = new RegExp(
      `^${route.url
        .split('/')
        .map((segment) =>
          segment.startsWith(':')
            ? '[^/]+'
            : segment === '*'
              ? '.*'
              : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/')}$`,
    );
    for (const method of [route.method].flat()) routes.push({ path, method });
  });
  return (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [
      ...new Set(routes.filter((route) => route.path.test(path)).map((route) => route.method)),
    ];
    // No route has the path, or one that takes this method does and found nothing (a static
    // file that is not there): 404.
    if (allowed.length === 0 || allowed.includes(request.method)) return undefined;
    const allow = allowed.sort().join(', ');
    return sendProblem(reply.header('allow', allow), {
      ...methodProblems['method-not-allowed'],
      detail: `${path} does not take ${request.method}; it takes ${allow}.`,
    });
  };
}
