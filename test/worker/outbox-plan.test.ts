import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { judgeTry, planLine, type Kept } from '../../forwarder/worker/outbox-plan.js';
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
    ['a 503 on the POST', { ping: null, post: { kind: 'response', status: 503 } }],
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

describe('planLine', () => {
  const HOUR = 3_600_000;
  const now = Date.UTC(2026, 11, 3, 12);
  const kept = (seq: number, ageMs: number): Kept => ({
    seq,
    receivedAtMs: now - ageMs,
    bytes: 10,
    messageId: `m-${seq}`,
    event: 'job.status',
    status: 'FAILED',
    attempts: seq === 1 ? 5 : 0,
    lastTryAtMs: null,
    cause: seq === 1 ? 'unreachable: down' : null,
    nextTryAtMs: null,
    failedAtMs: null,
  });

  it('the head waits the delay of its streak, the last delay repeating', () => {
    const line = [kept(1, 60_000), kept(2, 1_000)];
    expect(planLine(1, line, [1, 1, 2], 72, now)).toEqual({
      givenUp: [],
      next: { kept: line[0], nextTryAtMs: now + 1000 },
    });
    expect(planLine(3, line, [1, 1, 2], 72, now).next!.nextTryAtMs).toBe(now + 2000);
    expect(planLine(9, line, [1, 1, 2], 72, now).next!.nextTryAtMs).toBe(now + 2000);
  });

  it('gives up (marked failed, kept) those whose next try would come after FORWARD_PARK_MAX_HOURS', () => {
    // Max 1 h, delay 10 min: the head arrived 55 min ago (its next try at 65 min: too late), the second
    // 52 min ago (62 min: too late), the third 45 min ago (55 min: in time).
    const line = [kept(1, 55 * 60_000), kept(2, 52 * 60_000), kept(3, 45 * 60_000)];
    const plan = planLine(4, line, [600], 1, now);
    expect(plan.givenUp.map((k) => k.seq)).toEqual([1, 2]);
    expect(plan.givenUp[0]!.cause).toBe('unreachable: down (gave up: not delivered within 1 h)');
    expect(plan.next).toEqual({ kept: line[2], nextTryAtMs: now + 600_000 });
    expect(planLine(4, line.slice(0, 2), [600], 1, now).next).toBeNull();
    expect(planLine(1, [kept(1, 2 * HOUR)], [60], 72, now).givenUp).toEqual([]);
  });
});
