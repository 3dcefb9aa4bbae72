import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small stand-in for the sink on loopback, answering as the sink's spec says: `GET /ping` -> 200 `PONG`,
 * `POST /receive-webhooks` -> `{"msg": "value with key N stored"}` once per messageId, then `already stored`;
 * 401 without the right basic auth. Scripted answers (`plan`) are served first, one per request, so a test
 * can make the sink fail, hang or misbehave on chosen requests.
 */
export type Scripted =
  { status: number; body: string; headers?: Record<string, string>; storeFirst?: boolean } | 'hang' | 'destroy';

export interface StubRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** UP42's signature as a forwarder passed it on (the X-Up42-Signed-Headers header), if any. */
  signedHeaders: string | undefined;
  body: string;
}

export interface StubSink {
  url: string;
  requests: StubRequest[];
  /** messageId -> key, as stored. */
  stored: Map<string, number>;
  plan: { ping: Scripted[]; receive: Scripted[] };
  count(path: string): number;
  close(): Promise<void>;
}

export async function startStubSink(auth: { user: string; pass: string } | null): Promise<StubSink> {
  const requests: StubRequest[] = [];
  const stored = new Map<string, number>();
  const plan: StubSink['plan'] = { ping: [], receive: [] };
  const expected = auth ? `Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString('base64')}` : undefined;

  const store = (body: string): { status: number; body: string } => {
    let messageId: unknown;
    try {
      messageId = (JSON.parse(body) as { messageId?: unknown }).messageId;
    } catch {
      return { status: 400, body: '{"code": 400, "msg": "the body is not JSON"}\n' };
    }
    const id = typeof messageId === 'string' ? messageId : `anonymous-${stored.size}`;
    const known = stored.get(id);
    if (known !== undefined) return { status: 200, body: `{"msg": "value with key ${known} already stored"}\n` };
    const key = stored.size + 1;
    stored.set(id, key);
    return { status: 200, body: `{"msg": "value with key ${key} stored"}\n` };
  };

  const answer = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/plain', ...headers });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const path = new URL(req.url ?? '/', 'http://stub').pathname;
    const signedHeaders = req.headers['x-up42-signed-headers'];
    requests.push({
      method: req.method ?? '',
      path,
      authorization: req.headers.authorization,
      signedHeaders: typeof signedHeaders === 'string' ? signedHeaders : undefined,
      body,
    });
    const queue = path === '/ping' ? plan.ping : path === '/receive-webhooks' ? plan.receive : [];
    const scripted = queue.shift();
    if (scripted === 'hang') return;
    if (scripted === 'destroy') {
      req.socket.destroy();
      return;
    }
    if (scripted) {
      if (scripted.storeFirst) store(body);
      answer(res, scripted.status, scripted.body, scripted.headers);
      return;
    }
    if (expected !== undefined && req.headers.authorization !== expected) {
      answer(res, 401, '{"code": 401, "msg": "unauthorized"}\n', { 'www-authenticate': 'Basic realm="sink"' });
      return;
    }
    if (req.method === 'GET' && path === '/ping') return answer(res, 200, 'PONG');
    if (req.method === 'POST' && path === '/receive-webhooks') {
      const result = store(body);
      return answer(res, result.status, result.body);
    }
    answer(res, 404, '{"code": 404, "msg": "not found"}\n');
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stored,
    plan,
    count: (path) => requests.filter((r) => r.path === path).length,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** A loopback port nothing listens on: opened, then closed. */
export { freePort as closedPort } from '../support/ports.js';
