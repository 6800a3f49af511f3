import type { FastifyInstance } from 'fastify';
import { defineProblems, problem, problemAnswer, sendProblem } from 'tollgate/fastify';

const refusals = defineProblems({
  'bad-request': { status: 400, title: 'Bad Request' },
  'expectation-failed': { status: 417, title: 'Expectation Failed' },
});

/**
 * The two refusals Node's HTTP server answers itself with an empty body, answered as
 * problem+json like every other: an HTTP/1.1 request without `Host` — or, which Node lets
 * through, with two (400; RFC 9112 §3.2) — and an `Expect` other than `100-continue` (417).
 */
export function protocolProblems(app: FastifyInstance): void {
  // Node checks Host before any hook runs, and answers 400 with nothing to read.
  (app.server as unknown as { requireHostHeader: boolean }).requireHostHeader = false;
  app.addHook('onRequest', (request, reply, done) => {
    const hosts = hostHeaders(request.raw.rawHeaders);
    if ((request.raw.httpVersion === '1.1' && hosts === 0) || hosts > 1) {
      sendProblem(reply.header('connection', 'close'), {
        ...refusals['bad-request'],
        detail: 'An HTTP/1.1 request must carry exactly one Host header.',
      });
      return;
    }
    done();
  });
  app.server.on('checkExpectation', (request, response) => {
    const answer = problemAnswer(
      problem(
        refusals['expectation-failed'],
        `Expect: ${String(request.headers.expect).slice(0, 100)} is not supported; send the request without it (or with Expect: 100-continue).`,
      ),
    );
    response
      .writeHead(417, {
        ...answer.headers,
        'content-length': String(Buffer.byteLength(answer.body)),
        connection: 'close',
      })
      .end(answer.body);
  });
}

/** How many Host headers a request has (`rawHeaders`: name, value, name, value…). */
function hostHeaders(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 4 && rawHeaders[i]!.toLowerCase() === 'host') count++;
  }
  return count;
}
