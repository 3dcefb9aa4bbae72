import { afterAll, afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import http, { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SinkRequest } from '../../forwarder/forward.js';
import type { StepContext } from '../../forwarder/pipedream.js';
import { axiosTransport, sinkAgents } from '../../forwarder/sink-transport.js';
import { closedPort } from './stub-sink.js';

// The forward step's transport against loopback stand-ins: one kept-alive connection, each attempt's deadline.

const PASS = 'transport-pass-TOPSECRET';
const auth = { user: 'relay', pass: PASS };
const $: StepContext = { export: () => undefined, flow: { exit: () => undefined } };

interface StandIn {
  url: string;
  /** TCP connections accepted so far. */
  connections: number;
  /** The client port of each request, in order: one port means one connection. */
  clientPorts: number[];
  close(): Promise<void>;
}

async function standIn(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<StandIn> {
  const server = createServer((req, res) => {
    state.clientPorts.push(req.socket.remotePort ?? 0);
    req.resume();
    req.on('end', () => answer(req, res));
  });
  const state: StandIn = {
    url: '',
    connections: 0,
    clientPorts: [],
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
  server.on('connection', (_socket: Socket) => (state.connections += 1));
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

const sinkLike = (req: IncomingMessage, res: ServerResponse) => {
  if (req.method === 'GET') res.end('PONG');
  else res.end('{"msg": "value with key 1 stored"}\n');
};

const ping = (url: string, timeoutMs = 5_000): SinkRequest => ({ method: 'GET', url: `${url}/ping`, auth, timeoutMs });
const post = (url: string): SinkRequest => ({
  method: 'POST',
  url: `${url}/receive-webhooks`,
  auth,
  body: '{"messageId":"m"}',
  timeoutMs: 5_000,
});

let servers: StandIn[] = [];
beforeEach(() => {
  servers = [];
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
});
afterAll(() => {
  sinkAgents.http.destroy();
  sinkAgents.https.destroy();
});

describe('axiosTransport', () => {
  it('pings and posts over one kept-alive connection, delivery after delivery, whatever the global agent', async () => {
    const sink = await standIn(sinkLike);
    servers.push(sink);
    // Node's global agent made to close every connection after one request: the transport must not rely on it.
    const globalAgent = http.globalAgent;
    http.globalAgent = new http.Agent({ keepAlive: false });
    try {
      const transport = axiosTransport($);
      for (let delivery = 0; delivery < 3; delivery++) {
        expect(await transport(ping(sink.url))).toEqual({ kind: 'response', status: 200, text: 'PONG' });
        expect(await transport(post(sink.url))).toMatchObject({ kind: 'response', status: 200 });
      }
    } finally {
      http.globalAgent = globalAgent;
    }
    expect(sink.clientPorts).toHaveLength(6);
    expect(new Set(sink.clientPorts).size).toBe(1);
    expect(sink.connections).toBe(1);
  });

  it("sends the body with its own Content-Type; reads the edge's error code and the sink's key headers", async () => {
    let seenType: string | undefined;
    const server = await standIn((req, res) => {
      seenType = req.headers['content-type'];
      if (req.method === 'GET') {
        res.writeHead(404, { 'ngrok-error-code': 'ERR_NGROK_3200', 'content-type': 'text/html' });
        res.end('<html>offline</html>');
      } else {
        res.writeHead(200, {
          'x-webhook-key': '12',
          'x-webhook-duplicate': 'true',
          'content-type': 'application/json',
        });
        res.end('{"msg": "value with key 12 already stored"}\n');
      }
    });
    servers.push(server);
    const transport = axiosTransport($);
    expect(await transport(ping(server.url))).toMatchObject({
      kind: 'response',
      status: 404,
      ngrokErrorCode: 'ERR_NGROK_3200',
    });
    const raw = {
      ...post(server.url),
      body: '{"messageId": "m", "n": 1.0}',
      contentType: 'application/json; charset=utf-8',
    };
    expect(await transport(raw)).toMatchObject({ status: 200, webhookKey: '12', webhookDuplicate: 'true' });
    expect(seenType).toBe('application/json; charset=utf-8');
  });

  it('ends an attempt the sink does not answer at its deadline', async () => {
    const sink = await standIn(() => undefined);
    servers.push(sink);
    const started = Date.now();
    const answer = await axiosTransport($)(ping(sink.url, 300));
    expect(answer).toEqual({ kind: 'network', timedOut: true, detail: 'no answer within 300 ms' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("clears each attempt's deadline once it is answered: no timer is left pending", async () => {
    const sink = await standIn(sinkLike);
    servers.push(sink);
    // Deadlines far away: a timer left behind would keep the process (a CLI, a test run) alive for a minute.
    const DEADLINE_MS = 60_000;
    // The timers set for the attempts' deadlines (and only those: other code's timers come and go meanwhile),
    // and the ones cleared.
    const deadlines: unknown[] = [];
    const cleared = new Set<unknown>();
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const setSpy = jest.spyOn(globalThis, 'setTimeout').mockImplementation(((
      fn: (...a: unknown[]) => void,
      ms?: number,
      ...args: unknown[]
    ) => {
      const timer = realSet(fn, ms, ...args);
      if (ms === DEADLINE_MS) deadlines.push(timer);
      return timer;
    }) as unknown as typeof setTimeout);
    const clearSpy = jest.spyOn(globalThis, 'clearTimeout').mockImplementation(((timer?: NodeJS.Timeout) => {
      cleared.add(timer);
      realClear(timer);
    }) as typeof clearTimeout);
    try {
      const transport = axiosTransport($);
      await transport({ ...ping(sink.url), timeoutMs: DEADLINE_MS });
      await transport({ ...post(sink.url), timeoutMs: DEADLINE_MS });
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
    expect(deadlines).toHaveLength(2);
    for (const timer of deadlines) expect(cleared.has(timer)).toBe(true);
  });

  it('says where a refused connection went, never with the credentials', async () => {
    const port = await closedPort();
    const answer = await axiosTransport($)(ping(`http://127.0.0.1:${port}`));
    expect(answer).toMatchObject({ kind: 'network', timedOut: false });
    const detail = (answer as { detail: string }).detail;
    expect(detail).toContain('ECONNREFUSED');
    expect(detail).toContain(`127.0.0.1:${port}`);
    expect(detail).not.toContain(PASS);
    expect(detail.toLowerCase()).not.toContain('authorization');
  });
});
