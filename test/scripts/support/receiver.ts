import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  /** The raw bytes as they arrived, for digest and signature checks. */
  body: Buffer;
}

/** A loopback webhook receiver that keeps every request and answers with `status`. */
export async function startReceiver(status = 200) {
  const received: Received[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  // echo: the reply repeats the request's Authorization header, as a careless target might.
  const state = { status, delayMs: 0, echo: false };
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const timer = setTimeout(() => {
        timers.delete(timer);
        inFlight--;
        res.writeHead(state.status, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            ...(state.echo ? { authorization: req.headers.authorization } : {}),
            stored: received.length,
          }),
        );
      }, state.delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    state,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port with nothing listening on it. */
export { freePort as closedPort } from '../../support/ports.js';
