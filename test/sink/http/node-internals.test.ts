import { afterEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { listen } from '../../../sink/http/listen.js';
import { allowHalfOpenRequests, responseOnSocket } from '../../../sink/http/node-internals.js';

// The Node internals the servers rely on, checked against the Node that runs the tests: if an upgrade drops
// or renames one, this file says which.

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(handler: RequestListener, halfOpen: boolean): Promise<number> {
  const server = createServer(handler);
  if (halfOpen) allowHalfOpenRequests(server);
  servers.push(server);
  return listen(server, 0, '127.0.0.1');
}

/** Sends a complete request, half-closes, and reads until the server closes. */
async function halfClosedExchange(port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let out = '';
  socket.setEncoding('utf8').on('data', (d: string) => (out += d));
  socket.end('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await once(socket, 'close');
  return out;
}

// Answers only once the client's half-close has reached the server.
const answerAfterHalfClose: RequestListener = (req, res) => {
  req.socket.once('end', () => setImmediate(() => res.end('late answer')));
};

describe('httpAllowHalfOpen', () => {
  it('keeps a half-closed request alive until it is answered', async () => {
    const out = await halfClosedExchange(await serve(answerAfterHalfClose, true));
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out).toContain('late answer');
  });

  it('is what makes the difference: without it Node drops the request at the half-close', async () => {
    expect(await halfClosedExchange(await serve(answerAfterHalfClose, false))).toBe('');
  });
});

describe('_httpMessage', () => {
  it('is the response being written on a socket, and null once the connection is idle', async () => {
    const seen: { during: ServerResponse | null; same: boolean; after?: ServerResponse | null }[] = [];
    const idle = new Promise<void>((resolve) => {
      void serve((req, res) => {
        const during = responseOnSocket(req.socket);
        seen.push({ during, same: during === res });
        res.on('finish', () =>
          setImmediate(() => {
            seen[0]!.after = responseOnSocket(req.socket);
            resolve();
          }),
        );
        res.end('ok');
      }, true).then((port) => fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()));
    });
    await idle;
    expect(seen[0]!.during).not.toBeNull();
    expect(seen[0]!.same).toBe(true);
    expect(seen[0]!.after).toBeNull();
  });
});
