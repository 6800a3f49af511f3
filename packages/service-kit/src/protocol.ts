import type { FastifyInstance } from 'fastify';
import { defineProblems, problem, problemAnswer, sendProblem } from 'tollgate/fastify';

const refusals = defineProblems({
  'bad-request': { status: 400, title: 'Bad Request' },
  'transfer-coding-not-implemented': { status: 501, title: 'Not Implemented' },
  'expectation-failed': { status: 417, title: 'Expectation Failed' },
});

/**
 * The two refusals Node's HTTP server answers itself with an empty body, answered as
 * problem+json like every other: an HTTP/1.1 request without `Host` — or, which Node lets
 * through, with two (400; RFC 9112 §3.2) — and an `Expect` other than `100-continue` (417);
 * and a transfer coding besides `chunked`, which Node would pass on undecoded (501, RFC 9112 §6.1).
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
    // Node undoes `chunked` and passes any other coding through untouched (`gzip, chunked`
    // arrives as the gzip bytes, or as whatever was sent): refused rather than misread.
    const coding = request.headers['transfer-encoding'];
    if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked') {
      sendProblem(reply.header('connection', 'close'), {
        ...refusals['transfer-coding-not-implemented'],
        detail: `Transfer-Encoding ${coding.slice(0, 100)} is not implemented: send the body as it is, or chunked.`,
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
