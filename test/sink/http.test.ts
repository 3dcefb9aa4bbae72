import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { get, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeEvent } from '../../shared/events.js';
import { nodeFileOps, type StoreFileOps } from '../../sink/store/file-store.js';
import {
  basic,
  call,
  destroyAgent,
  dumpLines,
  post,
  startTestSink,
  tempDir,
  type Reply,
  type TestSink,
} from './sink-support.js';
import { waitFor } from '../support/wait-for.js';

let seq = 0;
const delivery = (over: { event?: 'job.status' | 'order.status'; status?: string; liveMode?: boolean } = {}) =>
  makeEvent({
    event: over.event ?? 'job.status',
    status: over.status ?? 'FAILED',
    liveMode: over.liveMode ?? true,
    messageId: `msg-${process.pid}-${++seq}`,
    timestamp: '2026-11-30T07:01:43.512Z',
  });

/** Response headers allowed to appear; none of them may name the technology behind the server. */
const ALLOWED_HEADERS = new Set([
  'server',
  'date',
  'connection',
  'keep-alive',
  'content-type',
  'content-length',
  'transfer-encoding',
  'allow',
  'www-authenticate',
  'cache-control',
  'content-security-policy',
  'x-content-type-options',
  // The stored webhook's key, for the forwarder to read without parsing the message.
  'x-webhook-key',
  'x-webhook-duplicate',
]);

function expectPlainHeaders(reply: Reply): void {
  expect(reply.headers.server).toBe('LeRenard2000');
  for (let i = 0; i < reply.rawHeaders.length; i += 2)
    expect(ALLOWED_HEADERS).toContain(reply.rawHeaders[i]!.toLowerCase());
  expect(JSON.stringify(reply.rawHeaders)).not.toMatch(/node|express|openresty|nginx|x-powered-by/i);
}

/** Sends raw bytes on a fresh connection and collects whatever comes back until the server closes it. */
function raw(url: string, data: string | Buffer, options: { end?: boolean; timeoutMs?: number } = {}): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${options.timeoutMs ?? 5000} ms; got: ${out}`));
    }, options.timeoutMs ?? 5000);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (out += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.write(data);
    if (options.end) socket.end();
  });
}

let tmp: Awaited<ReturnType<typeof tempDir>>;
/** Stops what a failed test left running, so jest can exit. */
let afterCleanup: (() => Promise<void>)[] = [];
const track = (sink: TestSink): TestSink => {
  afterCleanup.push(() => sink.close());
  return sink;
};
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  for (const f of afterCleanup) await f().catch(() => undefined);
  afterCleanup = [];
  await tmp.remove();
});
afterAll(() => destroyAgent());

describe('the HTTP surface, byte for byte', () => {
  let sink: TestSink;
  beforeEach(async () => {
    sink = await startTestSink({ dataDir: tmp.dir, maxBodyBytes: 4096 });
  });
  afterEach(async () => {
    await sink.close();
  });

  it('/ping answers PONG anywhere in the path, any case, any method', async () => {
    for (const [method, p] of [
      ['GET', '/ping'],
      ['GET', '/PING'],
      ['POST', '/a/b/PiNg/c'],
      ['HEAD', '/ping?x=1'],
    ] as const) {
      const r = await call(sink.url, p, { method });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/plain');
      expect(r.text).toBe(method === 'HEAD' ? '' : 'PONG');
      expectPlainHeaders(r);
    }
  });

  it("POST /receive-webhooks stores, answers the article's bytes; other methods get 405 with Allow: POST", async () => {
    const r = await post(sink.url, JSON.stringify(delivery()));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.text).toBe('{"msg": "value with key 1 stored"}\n');
    expect([r.headers['x-webhook-key'], r.headers['x-webhook-duplicate']]).toEqual(['1', 'false']);
    expectPlainHeaders(r);
    expect((await post(sink.url, JSON.stringify(delivery()))).text).toBe('{"msg": "value with key 2 stored"}\n');
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD']) {
      const bad = await call(sink.url, '/receive-webhooks', { method });
      expect(bad.status).toBe(405);
      expect(bad.headers.allow).toBe('POST');
      expect(bad.text).toBe(method === 'HEAD' ? '' : '{"code": 405, "msg": "method not allowed"}\n');
      expectPlainHeaders(bad);
    }
    expect(sink.store.count).toBe(2);
  });

  it('GET /dump-webhooks: every body as received, oldest first, one per line, then the count', async () => {
    const bodies = [
      JSON.stringify(delivery()),
      '{"spaced": 1.50,  "kept": "as sent"}',
      '[1,2,3]',
      '"a string is a delivery too"',
      '{\n  "pretty": true,\n  "n": 1.0\n}\n',
    ];
    for (const b of bodies) expect((await post(sink.url, b)).status).toBe(200);
    const r = await call(sink.url, '/dump-webhooks');
    expect(r.status).toBe(200);
    expectPlainHeaders(r);
    expect(r.text).toBe(
      [...bodies.slice(0, 4), '{"pretty":true,"n":1.0}', '{"number_webhooks_received": 5}', ''].join('\n'),
    );
    const head = await call(sink.url, '/dump-webhooks', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it('filters the dump by event, status, liveMode, since and limit, combined', async () => {
    const sent = [
      delivery({ event: 'job.status', status: 'FAILED', liveMode: true }),
      delivery({ event: 'job.status', status: 'SUCCEEDED', liveMode: false }),
      delivery({ event: 'order.status', status: 'FULFILLED', liveMode: true }),
      delivery({ event: 'order.status', status: 'FAILED_PERMANENTLY', liveMode: false }),
      delivery({ event: 'job.status', status: 'FAILED', liveMode: false }),
    ];
    for (const s of sent) await post(sink.url, JSON.stringify(s));
    const ids = async (query: string) => {
      const r = await call(sink.url, `/dump-webhooks?${query}`);
      expect(r.status).toBe(200);
      const { lines, count } = dumpLines(r.text);
      expect(count).toBe(lines.length);
      return lines.map(
        (l) => sent.findIndex((s) => s.messageId === (JSON.parse(l) as { messageId: string }).messageId) + 1,
      );
    };
    expect(await ids('')).toEqual([1, 2, 3, 4, 5]);
    expect(await ids('liveMode=false')).toEqual([2, 4, 5]);
    expect(await ids('event=order.status')).toEqual([3, 4]);
    expect(await ids('status=failed')).toEqual([1, 5]);
    expect(await ids('status=FAILED%20PERMANENTLY')).toEqual([4]);
    expect(await ids('since=2')).toEqual([3, 4, 5]);
    expect(await ids('limit=2')).toEqual([1, 2]);
    expect(await ids('event=job.status&liveMode=false&since=1&limit=1')).toEqual([2]);
    expect(await ids('order=desc&before=5&limit=2')).toEqual([4, 3]);
    expect(await ids('q=ORDER.STATUS&order=desc')).toEqual([4, 3]);
    const bad = await call(sink.url, '/dump-webhooks?limit=-3');
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('{"code": 400, "msg": "limit must be a whole number"}\n');
  });

  it('envelope=1 wraps each body with its key, time and fields; the count line stays', async () => {
    const d = delivery({ event: 'order.status', status: 'FULFILLED', liveMode: true });
    await post(sink.url, JSON.stringify(d));
    await post(sink.url, '{"x":\n1}');
    const r = await call(sink.url, '/dump-webhooks?envelope=1&order=desc');
    const { lines, count } = dumpLines(r.text);
    expect(count).toBe(2);
    expect(lines[0]).toMatch(
      /^\{"key":2,"receivedAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","messageId":null,"event":null,"status":null,"liveMode":null,"verified":null,"signed":null,"body":\{"x":1\}\}$/,
    );
    const first = JSON.parse(lines[1]!) as Record<string, unknown>;
    expect(first).toMatchObject({
      key: 1,
      messageId: d.messageId,
      event: 'order.status',
      status: 'FULFILLED',
      liveMode: true,
      body: d,
    });
    expect(lines[1]!.endsWith(`"body":${JSON.stringify(d)}}`)).toBe(true);
  });

  it('DELETE /dump-webhooks clears the store and keys start again at 1', async () => {
    await post(sink.url, JSON.stringify(delivery()));
    await post(sink.url, JSON.stringify(delivery()));
    const del = await call(sink.url, '/dump-webhooks', { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(del.text).toBe('{"msg": "deleted 2 webhooks"}\n');
    expect((await call(sink.url, '/dump-webhooks')).text).toBe('{"number_webhooks_received": 0}\n');
    expect((await post(sink.url, JSON.stringify(delivery()))).text).toBe('{"msg": "value with key 1 stored"}\n');
    const put = await call(sink.url, '/dump-webhooks', { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD, DELETE');
  });

  it('GET /stats gives count, bytes, capacity and last key', async () => {
    await post(sink.url, JSON.stringify(delivery()));
    const r = await call(sink.url, '/stats');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ count: 1, bytes: sink.store.bytes, maxBytes: 256 * 1024 * 1024, lastKey: 1 });
    expect(r.text).toBe(`{"count":1,"bytes":${sink.store.bytes},"maxBytes":268435456,"lastKey":1}\n`);
  });

  it('GET and HEAD / serve a page with a strict CSP; /favicon.ico is 204; anything else a JSON 404', async () => {
    for (const method of ['GET', 'HEAD']) {
      const r = await call(sink.url, '/', { method });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.headers['content-security-policy']).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      );
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(Number(r.headers['content-length'])).toBeGreaterThan(0);
      if (method === 'GET') expect(r.text).toMatch(/<html/i);
      expectPlainHeaders(r);
    }
    const fav = await call(sink.url, '/favicon.ico');
    expect(fav.status).toBe(204);
    expect(fav.text).toBe('');
    expectPlainHeaders(fav);
    for (const p of ['/nope', '/receive-webhooks/extra', '/dump', '/../etc/passwd']) {
      const r = await call(sink.url, p);
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.text).toBe('{"code": 404, "msg": "not found"}\n');
      expectPlainHeaders(r);
    }
    expect((await call(sink.url, '/', { method: 'POST' })).status).toBe(405);
  });

  it('answers idempotently: a messageId already stored keeps its key', async () => {
    const d = JSON.stringify(delivery());
    expect((await post(sink.url, d)).text).toBe('{"msg": "value with key 1 stored"}\n');
    await post(sink.url, JSON.stringify(delivery()));
    const again = await post(sink.url, d);
    expect(again.status).toBe(200);
    expect(again.text).toBe('{"msg": "value with key 1 already stored"}\n');
    expect([again.headers['x-webhook-key'], again.headers['x-webhook-duplicate']]).toEqual(['1', 'true']);
    expect(dumpLines((await call(sink.url, '/dump-webhooks')).text).count).toBe(2);
  });

  it('bad bodies get a clear 400 and store nothing; a JSON non-object is accepted', async () => {
    const cases: [string | Buffer, string][] = [
      ['', 'body is empty: a JSON document is expected'],
      ['  \n ', 'body is empty: a JSON document is expected'],
      ['{"unterminated": ', 'body is not valid JSON'],
      ['not json at all', 'body is not valid JSON'],
      [Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 'body is not valid JSON: it is not UTF-8'],
      [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"bom":1}')]), 'body is not valid JSON'],
    ];
    for (const [b, msg] of cases) {
      const r = await post(sink.url, b);
      expect(r.status).toBe(400);
      expect(r.text).toBe(`{"code": 400, "msg": ${JSON.stringify(msg)}}\n`);
    }
    expect(sink.store.count).toBe(0);
    for (const b of ['42', 'null', '[]', '"x"', 'true']) expect((await post(sink.url, b)).status).toBe(200);
    expect(sink.store.count).toBe(5);
  });

  it('a body over the limit gets 413 (declared or streamed); one at the limit is stored', async () => {
    const atLimit = `{"p":"${'x'.repeat(4096 - 8)}"}`;
    expect(Buffer.byteLength(atLimit)).toBe(4096);
    expect((await post(sink.url, atLimit)).status).toBe(200);
    const over = await post(sink.url, `{"p":"${'x'.repeat(4096)}"}`);
    expect(over.status).toBe(413);
    expect(over.text).toBe('{"code": 413, "msg": "body is larger than 4096 bytes"}\n');
    // Chunked: no length announced, the limit is found while reading.
    const chunked = await raw(
      sink.url,
      'POST /receive-webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        `Transfer-Encoding: chunked\r\n\r\n2000\r\n${'x'.repeat(0x2000)}\r\n`,
    );
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
    expect(chunked).toContain('Connection: close');
    expect(chunked.endsWith('{"code": 413, "msg": "body is larger than 4096 bytes"}\n')).toBe(true);
    expect(sink.store.count).toBe(1);
  });

  it('a connection broken mid-body stores nothing and the server keeps serving', async () => {
    const head =
      'POST /receive-webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      'Content-Length: 100\r\n\r\n';
    // Half-closed: the parser sees the end of input inside the body; at most a 400, never a store.
    const halfClosed = await raw(sink.url, `${head}{"messageId":"half`, { end: true });
    expect(halfClosed === '' || halfClosed.startsWith('HTTP/1.1 400 ')).toBe(true);
    // Reset: the connection simply disappears, a moment after the partial body (the pause is the test's input).
    sink.lines.length = 0;
    await new Promise<void>((resolve) => {
      const socket = connect(Number(new URL(sink.url).port), '127.0.0.1', () => {
        socket.write(`${head}{"messageId":"gone`, () => setTimeout(() => socket.resetAndDestroy(), 50));
      });
      socket.on('close', () => resolve());
      socket.on('error', () => undefined);
    });
    // The sink has finished with the request once it logs it (499: the client left).
    await waitFor(() => sink.lines.some((l) => l.includes('"POST /receive-webhooks')), { what: 'the log line' });
    expect(sink.store.count).toBe(0);
    expect((await post(sink.url, '{"whole":true}')).text).toBe('{"msg": "value with key 1 stored"}\n');
  });

  it('a malformed request gets a JSON 400 from the same server, and nothing crashes', async () => {
    for (const garbage of [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n',
      '\x00\x01\x02\r\n\r\n',
    ]) {
      const out = await raw(sink.url, garbage);
      expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(out).toContain('\r\nServer: LeRenard2000\r\n');
      expect(out.endsWith('{"code": 400, "msg": "bad request"}\n')).toBe(true);
    }
    expect((await call(sink.url, '/ping')).text).toBe('PONG');
  });

  it('logs one combined-format line per request, with no body', async () => {
    sink.lines.length = 0;
    await call(sink.url, '/ping', { headers: { 'user-agent': 'curl/8.5.0' } });
    await post(sink.url, '{"secret-ish":"body content"}', { referer: 'https://example.test/x' });
    const logged = (request: string) => sink.lines.some((l) => l.includes(request));
    await waitFor(() => logged('"GET /ping') && logged('"POST /receive-webhooks'), { what: 'both log lines' });
    const re =
      /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/ping HTTP\/1\.1" 200 4 "-" "curl\/8\.5\.0"$/;
    expect(sink.lines.filter((l) => l.includes('"GET /ping'))).toHaveLength(1);
    expect(sink.lines.find((l) => l.includes('"GET /ping'))).toMatch(re);
    const postLine = sink.lines.find((l) => l.includes('"POST /receive-webhooks'))!;
    expect(postLine).toMatch(/"POST \/receive-webhooks HTTP\/1\.1" 200 35 "https:\/\/example\.test\/x" "-"$/);
    expect(sink.lines.join('\n')).not.toContain('body content');
  });
});

describe('basic auth', () => {
  let sink: TestSink;
  const good = basic('relay', 'a long enough password');
  beforeAll(async () => {
    // This suite tries many wrong credentials on purpose: no backoff in its way.
    sink = await startTestSink({
      store: 'memory',
      auth: { user: 'relay', pass: 'a long enough password' },
      maxFailedLogins: 1_000_000,
    });
  });
  afterAll(async () => {
    await sink.close();
  });

  it('guards every route but /ping, answering 401 with WWW-Authenticate: Basic', async () => {
    const routes: [string, string][] = [
      ['POST', '/receive-webhooks'],
      ['GET', '/dump-webhooks'],
      ['DELETE', '/dump-webhooks'],
      ['GET', '/stats'],
      ['GET', '/events'],
      ['GET', '/'],
      ['HEAD', '/'],
      ['GET', '/inbox.js'],
      ['GET', '/inbox.css'],
      ['GET', '/favicon.ico'],
      ['GET', '/nope'],
    ];
    for (const [method, p] of routes) {
      for (const authorization of [
        undefined,
        basic('relay', 'wrong'),
        basic('other', 'a long enough password'),
        'Bearer x',
      ]) {
        const r = await call(sink.url, p, {
          method,
          headers: authorization ? { authorization } : {},
          body: method === 'POST' ? '{}' : undefined,
        });
        expect(r.status).toBe(401);
        expect(r.headers['www-authenticate']).toMatch(/^Basic /);
        expect(r.text).toBe(method === 'HEAD' ? '' : '{"code": 401, "msg": "unauthorized"}\n');
        expectPlainHeaders(r);
      }
    }
    expect(sink.store.count).toBe(0);
    expect((await call(sink.url, '/ping')).status).toBe(200);
  });

  it('lets the right credentials through and logs the user, never the password', async () => {
    sink.lines.length = 0;
    expect((await post(sink.url, '{"ok":1}', { authorization: good })).text).toBe(
      '{"msg": "value with key 1 stored"}\n',
    );
    expect((await call(sink.url, '/stats', { headers: { authorization: good } })).status).toBe(200);
    await call(sink.url, '/stats', { headers: { authorization: basic('relay', 'wrong') } });
    await waitFor(() => sink.lines.some((l) => l.includes('"GET /stats HTTP/1.1" 401')), { what: 'the 401 line' });
    expect(
      sink.lines.some((l) => /^127\.0\.0\.1 - relay \[.*\] "POST \/receive-webhooks HTTP\/1\.1" 200 /.test(l)),
    ).toBe(true);
    expect(sink.lines.some((l) => /^127\.0\.0\.1 - - \[.*\] "GET \/stats HTTP\/1\.1" 401 /.test(l))).toBe(true);
    const all = sink.lines.join('\n');
    expect(all).not.toContain('a long enough password');
    expect(all).not.toContain(good.slice(6));
  });
});

describe('capacity, disk errors, timeouts, inbox files', () => {
  it('answers 507 when a webhook would pass the capacity, and keeps what it has', async () => {
    const sink = track(await startTestSink({ dataDir: tmp.dir, maxBytes: 700 }));
    const d1 = JSON.stringify(delivery());
    expect((await post(sink.url, '{"a":1}')).status).toBe(200);
    const full = await post(sink.url, d1);
    expect(full.status).toBe(507);
    expect(full.text).toBe('{"code": 507, "msg": "store is full"}\n');
    expect((await post(sink.url, '{"b":2}')).text).toBe('{"msg": "value with key 2 stored"}\n');
    expect(dumpLines((await call(sink.url, '/dump-webhooks')).text).lines).toEqual(['{"a":1}', '{"b":2}']);
    await sink.close();
  });

  it('a disk error answers 500 and consumes no key; the next webhook gets it', async () => {
    let failNext = true;
    const ops: StoreFileOps = {
      ...nodeFileOps,
      async open(p) {
        const h = await nodeFileOps.open(p);
        return {
          read: (b, o, l, pos) => h.read(b, o, l, pos),
          async write(b, o, l, pos) {
            if (failNext) {
              // The bytes land in the file, then the disk fails: the store's O_DSYNC write reports it.
              failNext = false;
              await h.write(b, o, l, pos);
              throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
            }
            return h.write(b, o, l, pos);
          },
          datasync: () => h.datasync(),
          truncate: (len) => h.truncate(len),
          stat: () => h.stat(),
          close: () => h.close(),
        };
      },
    };
    const sink = track(await startTestSink({ dataDir: tmp.dir }, { fileOps: ops }));
    const r = await post(sink.url, '{"first":1}');
    expect(r.status).toBe(500);
    expect(r.text).toBe('{"code": 500, "msg": "could not store the webhook"}\n');
    expect(sink.warnings.join('\n')).toContain('EIO');
    expect((await post(sink.url, '{"second":2}')).text).toBe('{"msg": "value with key 1 stored"}\n');
    await sink.close();
  });

  it('cuts off a client that stalls in its headers or its body', async () => {
    const sink = track(
      await startTestSink({ store: 'memory' }, { server: { headersTimeoutMs: 400, requestTimeoutMs: 800 } }),
    );
    const started = Date.now();
    const headers = await raw(sink.url, 'GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expect(headers).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(headers).toContain('Server: LeRenard2000');
    const body = await raw(
      sink.url,
      'POST /receive-webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Content-Length: 50\r\n\r\n{"slow":',
    );
    expect(body).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(sink.store.count).toBe(0);
    await sink.close();
  });

  it('serves the inbox files read at start, and a plain page when index.html is missing', async () => {
    const inbox = path.join(tmp.dir, 'inbox');
    await mkdir(inbox);
    await writeFile(path.join(inbox, 'index.html'), '<!doctype html><title>inbox</title>');
    await writeFile(path.join(inbox, 'inbox.js'), 'console.log(1)');
    await writeFile(path.join(inbox, 'inbox.css'), 'body{}');
    const sink = track(await startTestSink({ store: 'memory' }, { server: { inboxDir: inbox } }));
    const page = await call(sink.url, '/');
    expect(page.text).toBe('<!doctype html><title>inbox</title>');
    const js = await call(sink.url, '/inbox.js');
    expect([js.status, js.headers['content-type'], js.text]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'console.log(1)',
    ]);
    expect(js.headers['content-security-policy']).toBeDefined();
    const css = await call(sink.url, '/inbox.css');
    expect([css.status, css.headers['content-type'], css.text]).toEqual([200, 'text/css; charset=utf-8', 'body{}']);
    await sink.close();

    const bare = track(
      await startTestSink({ store: 'memory' }, { server: { inboxDir: path.join(tmp.dir, 'missing') } }),
    );
    const fallback = await call(bare.url, '/');
    expect(fallback.status).toBe(200);
    expect(fallback.text).toMatch(/<html[\s\S]*\/dump-webhooks/);
    expect((await call(bare.url, '/inbox.js')).status).toBe(404);
    await bare.close();
  });

  it('streams a dump larger than its chunks, byte for byte, to a client that reads slowly', async () => {
    const sink = track(await startTestSink({ dataDir: tmp.dir, maxBodyBytes: 1024 * 1024 }));
    // Past the 64 KiB write chunks and the store's 256 KiB read windows, with lines larger than either.
    const sizes = [
      ...Array.from({ length: 400 }, (_, i) => 20 + ((i * 613) % 2500)),
      100 * 1024,
      300 * 1024,
      64 * 1024 - 30,
    ];
    const bodies = sizes.map((n, i) => JSON.stringify({ i, pad: 'x'.repeat(n) }));
    bodies.splice(200, 0, '{\n  "pretty": true\n}');
    for (const b of bodies) expect((await post(sink.url, b)).status).toBe(200);
    const expected = [
      ...bodies.map((b) => (b.includes('\n') ? '{"pretty":true}' : b)),
      `{"number_webhooks_received": ${bodies.length}}`,
      '',
    ].join('\n');
    const text = await new Promise<string>((resolve, reject) => {
      get(`${sink.url}/dump-webhooks`, (res) => {
        const chunks: Buffer[] = [];
        res.once('data', (c: Buffer) => {
          chunks.push(c);
          // Stop reading long enough for the socket's buffers to fill: the sink must wait, not buffer the rest.
          res.pause();
          setTimeout(() => {
            res.on('data', (more: Buffer) => chunks.push(more));
            res.resume();
          }, 300);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      }).on('error', reject);
    });
    expect(text.length).toBe(expected.length);
    expect(text === expected).toBe(true);
    const desc = dumpLines((await call(sink.url, '/dump-webhooks?envelope=1&order=desc')).text);
    expect(desc.count).toBe(bodies.length);
    expect(desc.lines.map((l) => JSON.stringify((JSON.parse(l) as { body: unknown }).body))).toEqual(
      bodies.map((b) => JSON.stringify(JSON.parse(b))).reverse(),
    );
  });
});

describe('GET /events (server-sent events)', () => {
  interface SseEvent {
    id?: string;
    event: string;
    data: string;
  }

  function openEvents(url: string, headers: Record<string, string> = {}, query = '') {
    const events: SseEvent[] = [];
    let waiters: (() => void)[] = [];
    let res: IncomingMessage | undefined;
    const req = get(`${url}/events${query}`, { headers }, (r) => {
      res = r;
      let buf = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: SseEvent = { event: 'message', data: '' };
          let has = false;
          for (const line of block.split('\n')) {
            const [k, ...rest] = line.split(': ');
            const v = rest.join(': ');
            if (k === 'id') e.id = v;
            if (k === 'event') e.event = v;
            if (k === 'data') {
              e.data = v;
              has = true;
            }
          }
          if (has) events.push(e);
        }
        const w = waiters;
        waiters = [];
        w.forEach((f) => f());
      });
    });
    req.on('error', () => undefined);
    const until = async (pred: (e: SseEvent[]) => boolean) => {
      const deadline = Date.now() + 5000;
      while (!pred(events)) {
        if (Date.now() > deadline) throw new Error(`events so far: ${JSON.stringify(events)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    };
    return { events, until, response: () => res, close: () => req.destroy() };
  }

  it('sends stats on connect, each stored webhook with its id, fresh stats, and cleared', async () => {
    const sink = await startTestSink({ dataDir: tmp.dir });
    const stream = openEvents(sink.url);
    afterCleanup.push(async () => {
      stream.close();
      await sink.close();
    });
    await stream.until((e) => e.length >= 1);
    expect(stream.response()!.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.response()!.headers['cache-control']).toBe('no-cache');
    expect(stream.events[0]).toEqual({
      event: 'stats',
      data: '{"count":0,"bytes":0,"maxBytes":268435456,"lastKey":0}',
    });
    const d = delivery();
    await post(sink.url, JSON.stringify(d));
    await stream.until((e) => e.length >= 3);
    expect(stream.events[1]).toMatchObject({ id: '1', event: 'webhook' });
    expect(JSON.parse(stream.events[1]!.data)).toMatchObject({
      key: 1,
      messageId: d.messageId,
      event: 'job.status',
      status: 'FAILED',
      liveMode: true,
      body: d,
    });
    expect(JSON.parse(stream.events[2]!.data)).toEqual({
      count: 1,
      bytes: sink.store.bytes,
      maxBytes: 268435456,
      lastKey: 1,
    });
    await call(sink.url, '/dump-webhooks', { method: 'DELETE' });
    await stream.until((e) => e.some((x) => x.event === 'cleared'));
    // Shutdown ends the stream so the process can exit.
    const started = Date.now();
    await sink.close();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('keeps an idle stream alive with comments', async () => {
    const sink = track(await startTestSink({ store: 'memory' }, { server: { sseKeepAliveMs: 50 } }));
    const text = await new Promise<string>((resolve, reject) => {
      const req = get(`${sink.url}/events`, (res) => {
        let out = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          out += d;
          if (out.includes(': keep-alive\n\n')) {
            req.destroy();
            resolve(out);
          }
        });
      });
      req.on('error', reject);
    });
    expect(text.startsWith('retry: 2000\n\nevent: stats\ndata: {"count":0,')).toBe(true);
    await sink.close();
  });

  it('replays the records after Last-Event-ID (or ?since=) before the live ones', async () => {
    const sink = await startTestSink({ store: 'memory' });
    try {
      for (let i = 0; i < 4; i++) await post(sink.url, JSON.stringify(delivery()));
      for (const [headers, query] of [
        [{ 'last-event-id': '2' }, ''],
        [{}, '?since=2'],
      ] as const) {
        const held = sink.store.lastKey;
        const stream = openEvents(sink.url, headers, query);
        try {
          await stream.until((e) => e.filter((x) => x.event === 'webhook').length >= held - 2);
          await post(sink.url, JSON.stringify(delivery()));
          await stream.until((e) => e.filter((x) => x.event === 'webhook').length >= held - 1);
          const ids = stream.events.filter((x) => x.event === 'webhook').map((x) => Number(x.id));
          expect(ids).toEqual(Array.from({ length: held - 1 }, (_, i) => i + 3));
        } finally {
          stream.close();
        }
      }
      const bad = await call(sink.url, '/events?since=abc');
      expect(bad.status).toBe(400);
    } finally {
      await sink.close();
    }
  });
});
