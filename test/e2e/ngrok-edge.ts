import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for ngrok's edge in front of the sink, built from ngrok's documented behaviour: the endpoint asks
 * for basic auth before anything reaches the agent (401 and a `WWW-Authenticate` challenge otherwise), then
 * passes the request on unchanged. When the agent is gone, which with the sink's in-process tunnel means the
 * sink is down, the edge itself answers for the endpoint: `404` with `ngrok-error-code: ERR_NGROK_3200` ("The
 * endpoint is offline") and an HTML page, never a network error.
 */
export interface NgrokEdge {
  url: string;
  /** Requests the edge answered itself because the endpoint was offline. */
  offlineAnswers(): number;
  close(): Promise<void>;
}

const OFFLINE_PAGE = `<!DOCTYPE html>
<html><head><title>ngrok - endpoint offline</title></head>
<body><h1>The endpoint is offline.</h1><p>ERR_NGROK_3200</p></body></html>
`;

function answer(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

export async function startNgrokEdge(options: {
  sinkPort: number;
  auth: { user: string; pass: string };
}): Promise<NgrokEdge> {
  const expected = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.pass}`).toString('base64')}`;
  let offline = 0;

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const upstream = request(
      { host: '127.0.0.1', port: options.sinkPort, method: req.method, path: req.url, headers: req.headers },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    upstream.on('error', () => {
      offline += 1;
      if (!res.headersSent) answer(res, 404, { 'ngrok-error-code': 'ERR_NGROK_3200' }, OFFLINE_PAGE);
      else res.destroy();
    });
    req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      req.resume();
      answer(res, 401, { 'www-authenticate': 'Basic realm="ngrok"' }, '<html><body>Unauthorized</body></html>\n');
      return;
    }
    forward(req, res);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    offlineAnswers: () => offline,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

export { freePort } from '../support/ports.js';
