import { createServer } from 'node:net';

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A loopback port nothing listens on. With `busOffset`, `port + busOffset` is free too
 * (Redis Cluster listens on its bus port, port + 10000).
 */
export async function freePort(busOffset?: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if (!(await canListen(port))) continue;
    if (busOffset !== undefined && !(await canListen(port + busOffset))) continue;
    return port;
  }
  throw new Error('no free loopback port found after 200 attempts');
}
