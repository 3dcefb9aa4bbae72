import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { EventEmitter, once } from 'node:events';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createAllowedHosts } from '../../sink/allowed-hosts.js';
import { clientOf, createLoginBackoff } from '../../shared/login-backoff.js';
import { parseSinkConfig } from '../../shared/config.js';
import { waitFor } from '../support/wait-for.js';
import { basic, call, destroyAgent, post, runSink, startTestSink, type TestSink } from './sink-support.js';

// What a hostile browser page or client could do to a sink on this machine, each refused on real sockets.

const sinks: TestSink[] = [];
async function sinkWith(...args: Parameters<typeof startTestSink>): Promise<TestSink> {
  const sink = await startTestSink(...args);
  sinks.push(sink);
  return sink;
}
afterEach(async () => {
  for (const sink of sinks.splice(0)) await sink.close();
});
afterAll(() => destroyAgent());

describe('POST /receive-webhooks from a browser page', () => {
  it('takes only a JSON type: a text/plain form gets 415 and stores nothing', async () => {
    const sink = await sinkWith({ store: 'memory' });
    const notJson = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'];
    notJson.push('application/jsonx');
    for (const type of notJson) {
      const headers = { 'content-type': type };
      const reply = await call(sink.url, '/receive-webhooks', { method: 'POST', headers, body: '{"a":1}' });
      expect(reply.status).toBe(415);
      expect(reply.text).toBe('{"code": 415, "msg": "Content-Type must be application/json"}\n');
    }
    const none = await call(sink.url, '/receive-webhooks', { method: 'POST', body: '{"a":1}' });
    expect(none.status).toBe(415);
    expect(sink.store.count).toBe(0);
    const json = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'];
    json.push('application/cloudevents+json');
    for (const type of json) {
      expect((await post(sink.url, `{"messageId":"${type}"}`, { 'content-type': type })).status).toBe(200);
    }
    expect(sink.store.count).toBe(4);
  });

  it('refuses cross-site and same-site requests and foreign origins with 403; its own origin passes', async () => {
    const sink = await sinkWith({ store: 'memory' });
    const host = new URL(sink.url).host;
    const refused: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'http://localhost:3000' },
      { origin: 'null' },
      { origin: `http://${host}.evil.test` },
    ];
    for (const headers of refused) {
      const reply = await post(sink.url, '{"a":1}', headers);
      expect(reply.status).toBe(403);
      expect(reply.text).toMatch(/^\{"code": 403, "msg": "cross-site requests are refused: /);
    }
    expect(sink.store.count).toBe(0);
    const own = { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' };
    expect((await post(sink.url, '{"a":1}', own)).status).toBe(200);
    expect((await post(sink.url, '{"a":2}', { 'sec-fetch-site': 'none' })).status).toBe(200);
    expect(sink.store.count).toBe(2);
  });
});

describe('the Host rule (DNS rebinding)', () => {
  it('answers loopback names on any port and refuses any other name with 421, before auth and routing', async () => {
    const sink = await sinkWith({ store: 'memory' });
    await post(sink.url, '{"a":1}');
    for (const host of ['127.0.0.1', '127.9.9.9:80', 'localhost', 'LOCALHOST:9888', '[::1]', '[::1]:1']) {
      const reply = await call(sink.url, '/stats', { headers: { host } });
      expect([host, reply.status]).toEqual([host, 200]);
    }
    const foreign = ['rebound.evil.test', 'rebound.evil.test:9888', '127.0.0.1.evil.test', 'localhost.evil.test'];
    foreign.push('10.0.0.1');
    const routes = [
      ['GET', '/dump-webhooks'],
      ['DELETE', '/dump-webhooks'],
      ['GET', '/ping'],
    ] as const;
    for (const host of foreign) {
      for (const [method, path] of routes) {
        const reply = await call(sink.url, path, { method, headers: { host } });
        expect([host, method, path, reply.status]).toEqual([host, method, path, 421]);
        expect(reply.text).toContain('SINK_ALLOWED_HOSTS');
        expect(reply.headers.server).toBe('LeRenard2000');
      }
    }
    expect(sink.store.count).toBe(1);
  });

  it('answers SINK_ALLOWED_HOSTS, the reserved ngrok domain, and the tunnel host once it is added', async () => {
    const sink = await sinkWith({ store: 'memory', allowedHosts: ['sink.example.com'], ngrok: null });
    expect((await call(sink.url, '/stats', { headers: { host: 'sink.example.com:443' } })).status).toBe(200);
    expect((await call(sink.url, '/stats', { headers: { host: 'abc.ngrok-free.app' } })).status).toBe(421);
    sink.allowHost('abc.ngrok-free.app');
    expect((await call(sink.url, '/stats', { headers: { host: 'abc.ngrok-free.app' } })).status).toBe(200);
  });

  it('allows SINK_HOST itself when it is not loopback, and on a wildcard the address a connection arrived on', () => {
    const lan = createAllowedHosts({ host: '192.168.1.5', allowedHosts: [], ngrok: null });
    expect(lan.allows('192.168.1.5:9888', '192.168.1.5')).toBe(true);
    expect(lan.allows('192.168.1.6', '192.168.1.5')).toBe(false);
    const ngrok = { authtoken: 't', domain: 'me.ngrok.app' };
    const v6 = createAllowedHosts({ host: 'fd00::5', allowedHosts: [], ngrok });
    expect(v6.allows('[fd00::5]:9888', 'fd00::5')).toBe(true);
    expect(v6.allows('me.ngrok.app', '127.0.0.1')).toBe(true);
    const any = createAllowedHosts({ host: '0.0.0.0', allowedHosts: [], ngrok: null });
    expect(any.allows('10.1.2.3:9888', '::ffff:10.1.2.3')).toBe(true);
    expect(any.allows('10.1.2.4:9888', '::ffff:10.1.2.3')).toBe(false);
    expect(any.allows('rebound.evil.test', '10.1.2.3')).toBe(false);
  });
});

/** Connects and sends `data` (maybe nothing); keeps its own side open whatever the server does. */
function idleSocket(url: string, data = ''): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: Number(new URL(url).port), host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      if (data !== '') socket.write(data);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

describe('slow or silent connections', () => {
  it('closes a connection outright once it has answered a stalled request with 408', async () => {
    const sink = await sinkWith({ store: 'memory' }, { server: { headersTimeoutMs: 300, requestTimeoutMs: 300 } });
    const serverSide = once(sink.server, 'connection') as Promise<[Socket]>;
    const client = await idleSocket(sink.url, 'GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const [socket] = await serverSide;
    let answer = '';
    client.setEncoding('latin1').on('data', (d: string) => (answer += d));
    // The client never closes its side: only the server's destroy ends the server's socket.
    await once(socket, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    client.destroy();
  });

  it('keeps /ping and authenticated clients served under a flood of idle sockets past the cap', async () => {
    const cap = 16;
    const auth = { user: 'relay', pass: 'a-long-password' };
    const sink = await sinkWith({ store: 'memory', maxConnections: cap, auth });
    const flood: Socket[] = [];
    const closed: Promise<unknown>[] = [];
    for (let i = 0; i < 3 * cap; i += 1) {
      // Silent sockets and sockets that never finish their headers (slowloris), alternately.
      const socket = await idleSocket(sink.url, i % 2 === 0 ? '' : 'GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      // Closed by the server: a FIN ('end'), or a reset if it had bytes of ours still unread ('close').
      closed.push(new Promise((resolve) => (socket.once('end', resolve), socket.once('close', resolve))));
      flood.push(socket);
    }
    // Every socket past the cap closed the oldest idle one: the first 2 * cap.
    await Promise.all(closed.slice(0, 2 * cap));
    const open = await new Promise<number>((resolve, reject) =>
      sink.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
    );
    expect(open).toBeLessThanOrEqual(cap);
    expect((await call(sink.url, '/ping')).status).toBe(200);
    const stats = await call(sink.url, '/stats', { headers: { authorization: basic(auth.user, auth.pass) } });
    expect(stats.status).toBe(200);
    for (const socket of flood) socket.destroy();
  });
});

describe('password guessing', () => {
  const auth = { user: 'relay', pass: 'a-long-password' };
  const right = basic(auth.user, auth.pass);

  it('answers 429 with Retry-After to failures past the free ones, yet the right password gets in', async () => {
    const sink = await sinkWith({ store: 'memory', auth });
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 12; i += 1) {
      const reply = await call(sink.url, '/stats', { headers: { authorization: basic(auth.user, `guess-${i}`) } });
      statuses.push(reply.status);
      if (reply.status === 429) retryAfter = reply.headers['retry-after'] as string;
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // From 127.0.0.1 too, after 12 wrong ones: it waits its turn, and is let in.
    const owner = await call(sink.url, '/stats', { headers: { authorization: right } });
    expect(owner.status).toBe(200);
    const wrong = await call(sink.url, '/stats', { headers: { authorization: basic(auth.user, 'guess-12') } });
    expect(wrong.text).toBe('{"code": 429, "msg": "too many failed logins from this client: try again later"}\n');
    expect((await call(sink.url, '/ping')).status).toBe(200);
    // Requests without credentials (a browser before its prompt) are not guesses.
    const fresh = await sinkWith({ store: 'memory', auth });
    for (let i = 0; i < 20; i += 1) expect((await call(fresh.url, '/stats')).status).toBe(401);
  });

  it('holds guesses from rotating loopback addresses to one rate while a forwarder keeps delivering', async () => {
    const sink = await sinkWith({ store: 'memory', auth });
    let guessing = true;
    const checked: number[] = [];
    const guesser = async (n: number) => {
      for (let i = 0; guessing; i += 1) {
        // Each guess from another address of 127.0.0.0/8.
        const from = `127.${1 + n}.${(i >> 8) & 255}.${1 + (i & 127)}`;
        const reply = await callFrom(sink.url, from, basic(auth.user, `guess-${n}-${i}`));
        expect([401, 429]).toContain(reply.status);
        if (reply.status === 401 || /failed logins/.test(reply.text)) checked.push(Date.now());
      }
    };
    const started = Date.now();
    const guessers = [0, 1].map(guesser);
    // The forwarder: its own schedule, 7.5 s an attempt, 429 and network errors tried again within 15 s.
    await waitFor(() => checked.length >= 10, { what: 'the free failures to be used up' });
    const delivered: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const body = JSON.stringify({ messageId: `delivery-${i}`, event: 'job.status' });
      const deadline = Date.now() + 15_000;
      for (;;) {
        const reply = await post(sink.url, body, { authorization: right }).catch(() => null);
        if (reply?.status === 200) break;
        expect(Date.now()).toBeLessThan(deadline);
        expect(reply === null || reply.status === 429).toBe(true);
      }
      delivered.push(i);
    }
    guessing = false;
    await Promise.all(guessers);
    const elapsed = Date.now() - started;
    expect(delivered).toEqual([0, 1, 2]);
    expect(sink.store.count).toBe(3);
    // As for one address: 10 free, then one check per 0.5 s at the very most (later 1 and 1.5 s).
    expect(checked.length).toBeLessThanOrEqual(10 + Math.ceil(elapsed / 500) + 1);
    expect(checked.length).toBeGreaterThan(10);
  });

  it('counts all of loopback as one client, and any other address as its own', () => {
    for (const address of ['127.0.0.1', '127.3.4.5', '::1', '::ffff:127.0.0.1', '::FFFF:127.9.9.9']) {
      expect(clientOf(address)).toBe('loopback');
    }
    expect(clientOf('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(clientOf('10.0.0.7')).toBe('10.0.0.7');
    expect(clientOf('2001:db8::1')).toBe('2001:db8::1');
  });

  it('spaces checks past the free failures, lets a few wait, forgets failures slowly, remembers a bound', () => {
    const limits = {
      freeFailures: 2,
      firstIntervalMs: 1_000,
      maxIntervalMs: 4_000,
      maxWaiting: 2,
      decayMs: 10_000,
      maxOver: 3,
      maxClients: 3,
    };
    const backoff = createLoginBackoff(limits);
    let now = 1_000_000;
    expect(backoff.failed('a', now)).toEqual({ throttled: false, retryAfterSeconds: 1 });
    expect(backoff.turn('a', now)).toEqual({ ok: true, waitMs: 0 });
    expect(backoff.failed('a', now).throttled).toBe(false);
    // Two failures: the next check waits a second, the one after two more; a third has to come back.
    expect(backoff.turn('a', now)).toEqual({ ok: true, waitMs: 1_000 });
    expect(backoff.turn('a', now)).toEqual({ ok: true, waitMs: 2_000 });
    expect(backoff.turn('a', now)).toEqual({ ok: false, retryAfterSeconds: 3 });
    now += 1_000;
    expect(backoff.failed('a', now)).toEqual({ throttled: true, retryAfterSeconds: 2 });
    now += 2_000;
    expect(backoff.failed('a', now)).toEqual({ throttled: true, retryAfterSeconds: 4 });
    // Failures fade one per 10 s: after 40 s of quiet, checks are immediate again.
    now += 40_000;
    expect(backoff.turn('a', now)).toEqual({ ok: true, waitMs: 0 });
    for (const address of ['b', 'c', 'd', 'e']) backoff.failed(address, now);
    expect(backoff.size()).toBe(3);
  });
});

/** A GET /stats with `authorization` from the local address `from` (any of 127.0.0.0/8 on Linux). */
function callFrom(url: string, from: string, authorization: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/stats`, { localAddress: from, agent: false, headers: { authorization } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a short password on an exposed sink', () => {
  it.each([
    ['with the tunnel', { NGROK_AUTHTOKEN: 'not-a-real-token' }],
    ['listening beyond loopback', { SINK_HOST: '0.0.0.0' }],
  ])('refuses to start %s: exit 2, naming the variable', async (_label, vars) => {
    const run = runSink({
      SINK_STORE: 'memory',
      SINK_BASIC_AUTH_USER: 'relay',
      SINK_BASIC_AUTH_PASS: 'pw1234',
      ...vars,
    });
    expect(await run.exited).toBe(2);
    expect(run.err()).toMatch(/^configuration error: .*SINK_BASIC_AUTH_PASS \(or \w+\) must have at least 8 char/);
    expect(run.err()).not.toContain('pw1234');
    expect(run.out()).not.toMatch(/listening on/);
  });

  it('is accepted on loopback without the tunnel', () => {
    expect(parseSinkConfig({ SINK_BASIC_AUTH_USER: 'relay', SINK_BASIC_AUTH_PASS: 'pw' }).ok).toBe(true);
    const eight = { SINK_HOST: '0.0.0.0', SINK_BASIC_AUTH_USER: 'relay', SINK_BASIC_AUTH_PASS: 'pw345678' };
    expect(parseSinkConfig(eight).ok).toBe(true);
  });
});

describe('the access log', () => {
  /** A sink whose log lines can be awaited. */
  async function loggingSink() {
    const lines: string[] = [];
    const logged = new EventEmitter();
    const sink = await sinkWith({ store: 'memory' }, { log: (line) => (lines.push(line), logged.emit('line', line)) });
    const next = (match: RegExp) =>
      new Promise<string>((resolve) => {
        const found = lines.find((l) => match.test(l));
        if (found !== undefined) return resolve(found);
        const on = (line: string) => {
          if (!match.test(line)) return;
          logged.off('line', on);
          resolve(line);
        };
        logged.on('line', on);
      });
    return { sink, lines, next };
  }

  it('refuses a request target over 8 KB with 414 and logs at most 8 KB of any field', async () => {
    const { sink, next } = await loggingSink();
    const reply = await call(sink.url, `/ping/${'a'.repeat(12 * 1024)}`);
    expect(reply.status).toBe(414);
    const line = await next(/ 414 /);
    expect(line.length).toBeLessThan(8 * 1024 + 200);
    // Quotes are logged as \x22, four bytes each: a 12 KB User-Agent of them is still cut at 8 KB.
    expect((await call(sink.url, '/ping', { headers: { 'user-agent': '"'.repeat(12 * 1024) } })).status).toBe(200);
    const uaLine = await next(/"GET \/ping HTTP\/1\.1" 200/);
    expect(uaLine.length).toBeLessThan(8 * 1024 + 200);
    expect(uaLine).toMatch(/(\\x22)+\.\.\."$/);
  });

  it('logs a request the client gave up on as 499, with its address', async () => {
    const { sink, next } = await loggingSink();
    const socket = connect(Number(new URL(sink.url).port), '127.0.0.1');
    await once(socket, 'connect');
    const arrived = once(sink.server, 'request');
    socket.write(
      'POST /receive-webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Content-Length: 100\r\n\r\n{"half":',
    );
    // Once the request reached the route (the server holds it), the client leaves with a reset.
    await arrived;
    socket.resetAndDestroy();
    const line = await next(/ 499 /);
    expect(line).toMatch(/^127\.0\.0\.1 - - \[.*\] "POST \/receive-webhooks HTTP\/1\.1" 499 0 /);
  });
});
