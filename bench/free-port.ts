import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback port nothing listens on right now: listened on, then closed. For a server started later on it
 * (a PostgreSQL server, a sink restarted behind the edge), or for a connection that must be refused. It lives
 * here, not in test/, because the benchmark starts servers the same way and never imports from the tests.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
