/** The load of one round: autocannon over loopback, shaped by the contender's workload. */
import autocannon from 'autocannon';
import type { Workload } from './contenders.ts';
import { paymentBody } from './route.ts';

/** The key every `replay` round sends; the parent completes it before the rounds. */
export const replayKey = 'bench-replay-key-0001';

const json = { 'content-type': 'application/json' };

let issued = 0;
/** A key never sent before in this run (16–255 characters of `[A-Za-z0-9_-]`). */
export function freshKey(): string {
  issued++;
  return `bench-new-${process.pid}-${String(issued).padStart(10, '0')}`;
}

/** One timed round: `connections` clients hitting `url` for `seconds`. */
export function load(
  url: string,
  workload: Workload,
  options: { seconds: number; connections: number },
): Promise<autocannon.Result> {
  const common = { url, connections: options.connections, duration: options.seconds };
  switch (workload) {
    case 'get':
      return autocannon({ ...common, url: `${url}/` });
    case 'post':
    case 'replay':
      return autocannon({
        ...common,
        url: `${url}/pay`,
        method: 'POST',
        headers: { ...json, 'idempotency-key': replayKey },
        body: paymentBody,
      });
    case 'new-key':
      return autocannon({
        ...common,
        url: `${url}/pay`,
        requests: [
          {
            method: 'POST',
            headers: json,
            body: paymentBody,
            setupRequest: (request) => ({
              ...request,
              headers: { ...request.headers, 'idempotency-key': freshKey() },
            }),
          },
        ],
      });
  }
}

/** Completes the replay key on a server, waiting (bounded) until a replay answers 201. */
export async function primeReplay(url: string): Promise<void> {
  const send = () =>
    fetch(`${url}/pay`, {
      method: 'POST',
      headers: { ...json, 'idempotency-key': replayKey },
      body: paymentBody,
    });
  const first = await send();
  if (first.status !== 201) throw new Error(`priming the replay answered ${first.status}`);
  // express-idempotency stores the answer after sending it: a replay can come too early.
  for (let attempt = 0; attempt < 50; attempt++) {
    if ((await send()).status === 201) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the replay key never completed');
}

/** How often the server's `POST /pay` handler has run. */
export async function handled(url: string): Promise<number> {
  const response = await fetch(`${url}/bench/handled`);
  return ((await response.json()) as { pay: number }).pay;
}
