import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import {
  dedupKey,
  drainBatch,
  judgeTry,
  mayStart,
  planNextTry,
  type Kept,
} from '../../forwarder/worker/outbox-plan.js';
import { sinkExchange } from '../../forwarder/worker/sink-fetch.js';
import { fail, ok } from '../../shared/result.js';
import { closedPort } from '../forwarder/stub-sink.js';

// The outbox's reading of one forward attempt, and its fetch transport against a real loopback server.

const delivered = ok({ key: 7, duplicate: false, reply: {}, attempts: { ping: 1, post: 1 } });
const failed = fail('unreachable' as const, 'the sink is not reachable');

describe('judgeTry', () => {
  it('a stored delivery is delivered, with its key', () => {
    expect(judgeTry(delivered, { ping: null, post: null })).toEqual({ outcome: 'delivered', key: 7, duplicate: false });
  });

  it.each([
    ['no answer to the ping', { ping: { kind: 'network', timedOut: false }, post: null }],
    ['a 401 on the ping (the sink, not this delivery)', { ping: { kind: 'response', status: 401 }, post: null }],
    [
      'ngrok offline on the POST',
      { ping: null, post: { kind: 'response', status: 404, ngrokErrorCode: 'ERR_NGROK_3200' } },
    ],
    [
      'ngrok unable to reach the sink',
      { ping: null, post: { kind: 'response', status: 502, ngrokErrorCode: 'ERR_NGROK_8012' } },
    ],
    ['a timeout on the POST', { ping: null, post: { kind: 'network', timedOut: true } }],
  ] as const)('%s: away', (_name, last) => {
    expect(judgeTry(failed, last)).toEqual({ outcome: 'away', cause: 'unreachable: the sink is not reachable' });
  });

  it.each([
    ['a 400 from the sink', 400],
    ['a plain 404 (no ngrok error code)', 404],
    ['a 413 from the sink', 413],
  ])('%s on the POST: refused', (_name, status) => {
    expect(judgeTry(failed, { ping: null, post: { kind: 'response', status } }).outcome).toBe('refused');
  });

  it.each([500, 503, 507])(
    'a %i of the sink itself on the POST: troubled (this delivery may be the cause)',
    (status) => {
      expect(judgeTry(failed, { ping: null, post: { kind: 'response', status } }).outcome).toBe('troubled');
    },
  );

  it('a 429 on the POST: away (the sink is busy, not troubled by this delivery)', () => {
    expect(judgeTry(failed, { ping: null, post: { kind: 'response', status: 429 } }).outcome).toBe('away');
  });
});

describe('sinkExchange', () => {
  let server: Server;
  let url: string;
  const seen: { method: string; authorization: string | undefined; type: string | undefined; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({
          method: req.method!,
          authorization: req.headers.authorization,
          type: req.headers['content-type'],
          body,
        });
        if (req.url === '/hang') return;
        if (req.url === '/offline') {
          res.writeHead(404, { 'ngrok-error-code': 'ERR_NGROK_3200', 'content-type': 'text/html' });
          return res.end('<html>offline</html>');
        }
        res.writeHead(200, { 'retry-after': '3' });
        res.end('PONG');
      });
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('posts the bytes it is given, with their content type and basic auth in UTF-8', async () => {
    const raw = '{ "messageId": "m-1",\n  "note": "Zürich" }';
    const exchange = sinkExchange();
    const auth = { user: 'relay', pass: 'pässwörd-123' };
    const answer = await exchange.transport({
      method: 'POST',
      url,
      auth,
      body: raw,
      contentType: 'application/json',
      timeoutMs: 2000,
    });
    expect(answer).toEqual({ kind: 'response', status: 200, text: 'PONG', retryAfter: '3' });
    const expected = `Basic ${Buffer.from('relay:pässwörd-123', 'utf8').toString('base64')}`;
    expect(seen.at(-1)).toEqual({ method: 'POST', authorization: expected, type: 'application/json', body: raw });
    expect(exchange.last).toEqual({ ping: null, post: { kind: 'response', status: 200, ngrokErrorCode: undefined } });
  });

  it("notes ngrok's error code, a refused connection and a timeout", async () => {
    const exchange = sinkExchange();
    await exchange.transport({ method: 'GET', url: `${url}/offline`, auth: null, timeoutMs: 2000 });
    expect(exchange.last.ping).toEqual({ kind: 'response', status: 404, ngrokErrorCode: 'ERR_NGROK_3200' });
    const down = await exchange.transport({
      method: 'POST',
      url: `http://127.0.0.1:${await closedPort()}`,
      auth: null,
      timeoutMs: 2000,
    });
    expect(down).toMatchObject({ kind: 'network', timedOut: false });
    const hung = await exchange.transport({ method: 'POST', url: `${url}/hang`, auth: null, timeoutMs: 200 });
    expect(hung).toEqual({ kind: 'network', timedOut: true, detail: 'no answer within 200 ms' });
    expect(exchange.last.post).toEqual({ kind: 'network', timedOut: true });
  });
});

describe('planNextTry', () => {
  const HOUR = 3_600_000;
  const now = Date.UTC(2026, 11, 3, 12);
  const kept = (ageMs: number): Kept => ({
    seq: 1,
    receivedAtMs: now - ageMs,
    bytes: 10,
    messageId: 'm-1',
    event: 'job.status',
    status: 'FAILED',
    signedHeaders: null,
    contentType: 'application/json',
    attempts: 5,
    refusals: 0,
    lastTryAtMs: null,
    cause: 'unreachable: down',
    nextTryAtMs: null,
    failedAtMs: null,
  });

  it('waits the delay of the streak, the last delay repeating', () => {
    expect(planNextTry(kept(60_000), 1, [1, 1, 2], 72, now)).toEqual({ action: 'retry', nextTryAtMs: now + 1000 });
    expect(planNextTry(kept(60_000), 3, [1, 1, 2], 72, now)).toEqual({ action: 'retry', nextTryAtMs: now + 2000 });
    expect(planNextTry(kept(60_000), 9, [1, 1, 2], 72, now)).toEqual({ action: 'retry', nextTryAtMs: now + 2000 });
  });

  it('gives up when the next try would come after FORWARD_PARK_MAX_HOURS since arrival', () => {
    // Max 1 h, delay 10 min: arrived 55 min ago, next try at 65 min: too late; 45 min ago: in time.
    expect(planNextTry(kept(55 * 60_000), 4, [600], 1, now)).toEqual({
      action: 'give-up',
      cause: 'unreachable: down (gave up: not delivered within 1 h)',
    });
    expect(planNextTry(kept(45 * 60_000), 4, [600], 1, now)).toEqual({ action: 'retry', nextTryAtMs: now + 600_000 });
    expect(planNextTry(kept(2 * HOUR), 1, [60], 72, now).action).toBe('retry');
  });
});

describe('drainBatch', () => {
  it('keeps one ping and a batch of POSTs, each with every attempt, within 50 subrequests', () => {
    for (let attempts = 1; attempts <= 10; attempts++) {
      const batch = drainBatch(attempts);
      expect(batch).toBeGreaterThanOrEqual(1);
      expect(attempts + batch * attempts).toBeLessThanOrEqual(50);
      expect(attempts + (batch + 1) * attempts).toBeGreaterThan(50);
    }
    expect(drainBatch(4)).toBe(11);
  });

  it('starts a request only while every attempt it may take still fits', () => {
    expect(mayStart(46, 4)).toBe(true);
    expect(mayStart(47, 4)).toBe(false);
    expect(mayStart(49, 1)).toBe(true);
    expect(mayStart(50, 1)).toBe(false);
    expect(mayStart(40, 10)).toBe(true);
    expect(mayStart(41, 10)).toBe(false);
  });
});

describe('dedupKey', () => {
  it("is the messageId, or the body's SHA-256 without one", () => {
    expect(dedupKey('abc', '{}')).toBe('id:abc');
    expect(dedupKey(null, '{"a":1}')).toBe(`sha256:${createHash('sha256').update('{"a":1}').digest('hex')}`);
  });
});
