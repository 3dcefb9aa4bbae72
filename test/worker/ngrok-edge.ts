import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for ngrok's edge in front of the sink, from ngrok's documented behaviour: while the endpoint is
 * offline it answers for the sink itself, `404` with an HTML page and `ngrok-error-code: ERR_NGROK_3200`; while
 * it is online it passes requests through. `offlineFor` takes the edge offline for the next N requests to a path.
 */
export interface NgrokEdge {
  url: string;
  /** The sink behind the tunnel; null: the endpoint is offline. */
  target: string | null;
  offlineFor: Map<string, number>;
  offlineAnswers: number;
  close(): Promise<void>;
}

const OFFLINE_PAGE =
  '<!DOCTYPE html><html><body><h1>The endpoint is offline.</h1><p>ERR_NGROK_3200</p></body></html>\n';

export async function startNgrokEdge(target: string | null): Promise<NgrokEdge> {
  const offline = (res: ServerResponse) => {
    edge.offlineAnswers += 1;
    res.writeHead(404, { 'content-type': 'text/html', 'ngrok-error-code': 'ERR_NGROK_3200' });
    res.end(OFFLINE_PAGE);
  };
  const pass = (req: IncomingMessage, res: ServerResponse, body: Buffer, to: string) => {
    const upstream = httpRequest(`${to}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502, { 'content-type': 'text/html', 'ngrok-error-code': 'ERR_NGROK_8012' });
      res.end('<html><body>ERR_NGROK_8012</body></html>\n');
    });
    upstream.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://edge').pathname;
      const left = edge.offlineFor.get(path) ?? 0;
      if (left > 0) edge.offlineFor.set(path, left - 1);
      if (edge.target === null || left > 0) return offline(res);
      pass(req, res, Buffer.concat(chunks), edge.target);
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const edge: NgrokEdge = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    target,
    offlineFor: new Map(),
    offlineAnswers: 0,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
  return edge;
}
