import { describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { deliver, event, nowSeconds } from '../forwarder/deliveries.js';
import { closedPort, startStubSink } from '../forwarder/stub-sink.js';
import { SECRET } from '../forwarder/validation-table.js';
import { AUTH, basic, outbox, startWorker, until, workerFixture, receivedIds } from './support.js';

// The outbox under attack and under load, in workerd: replays answered as duplicates and not kept again, the
// caps answered 507, an endless chunked body cut at 1 MiB, wrong passwords throttled, a delivery the sink keeps
// refusing with 5xx stepping aside while the line behind it goes on, UP42's signature passed on to the sink.

const w = workerFixture('worker-guard-', SECRET);

const down = async () => `http://127.0.0.1:${await closedPort()}`;
/** One signed request, sent as is any number of times: what an attacker who captured it can do. */
function captured(payload: unknown) {
  const body = JSON.stringify(payload);
  const headers = signedDeliveryHeaders({ body, secret: SECRET, created: nowSeconds() });
  return async (url: string) => {
    const response = await fetch(url, { method: 'POST', headers, body });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
}

describe('replays', () => {
  it('are answered 200 with duplicate: true and not kept again, while waiting and once delivered', async () => {
    const worker = await w.started(startWorker(w.scriptPath, w.settings(await down())));
    const payload = event();
    const replay = captured(payload);
    expect(await replay(worker.url)).toMatchObject({ status: 200, json: { outcome: 'kept', seq: 1 } });
    for (let i = 0; i < 20; i++)
      expect(await replay(worker.url)).toMatchObject({ status: 200, json: { duplicate: true, seq: 1 } });
    // Without a messageId, the body's digest tells a replay.
    const anonymous = { ...event() } as Record<string, unknown>;
    delete anonymous.messageId;
    const replayAnonymous = captured(anonymous);
    expect(await replayAnonymous(worker.url)).toMatchObject({ status: 200, json: { outcome: 'kept', seq: 2 } });
    expect(await replayAnonymous(worker.url)).toMatchObject({ status: 200, json: { duplicate: true, seq: 2 } });
    expect(await outbox(worker.url, AUTH)).toMatchObject({ waiting: 2 });

    const sink = await w.started(startStubSink(AUTH));
    await worker.reconfigure(w.settings(sink.url));
    await fetch(`${worker.url}/wake`, { method: 'POST', headers: { authorization: basic(AUTH) } });
    await until('both delivered', async () => (await outbox(worker.url, AUTH)).delivered === 2);
    expect(await replay(worker.url)).toMatchObject({ status: 200, json: { duplicate: true } });
    expect(await outbox(worker.url, AUTH)).toMatchObject({ waiting: 0, delivered: 2 });
    expect(sink.count('/receive-webhooks')).toBe(2);
    expect(worker.lines.filter((l) => l.includes('not kept again'))).toHaveLength(22);
  });
});

describe('the caps', () => {
  it('answer 507 past WORKER_MAX_WAITING and _BYTES, keep nothing new, and /check says so', async () => {
    const worker = await w.started(
      startWorker(w.scriptPath, w.settings(await down(), { WORKER_MAX_WAITING: '3', WORKER_MAX_WAITING_BYTES: '4K' })),
    );
    for (let i = 0; i < 3; i++) expect((await deliver(worker.url, event(), { secret: SECRET })).status).toBe(200);
    const over = await deliver(worker.url, event(), { secret: SECRET });
    expect(over.status).toBe(507);
    expect(over.json).toMatchObject({ reason: 'outbox-full' });
    expect(over.json.message).toContain('WORKER_MAX_WAITING=3');
    const check = await fetch(`${worker.url}/check`, { headers: { authorization: basic(AUTH) } });
    expect(await check.json()).toMatchObject({
      ok: false,
      outbox: { waiting: 3, maxWaiting: 3, full: expect.stringContaining('WORKER_MAX_WAITING=3') },
    });
    // Without credentials, the settings only.
    expect(await (await fetch(`${worker.url}/check`)).json()).toEqual({ ok: true });

    await worker.reconfigure(w.settings(await down(), { WORKER_MAX_WAITING: '100', WORKER_MAX_WAITING_BYTES: '4K' }));
    const big = { ...event(), pad: 'x'.repeat(3000) };
    const tooMany = await deliver(worker.url, big, { secret: SECRET });
    expect(tooMany.status).toBe(507);
    expect(tooMany.json.message).toContain('WORKER_MAX_WAITING_BYTES=4096');
    expect(await outbox(worker.url, AUTH)).toMatchObject({ waiting: 3 });
  });
});

describe('an endless chunked body', () => {
  it('is answered 413 once past 1 MiB, while the client is still sending', async () => {
    const worker = await w.started(startWorker(w.scriptPath, w.settings(await down())));
    const url = new URL(worker.url);
    const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: '/' });
    let status: number | undefined;
    req.on('response', (res) => {
      status = res.statusCode;
      res.resume();
    });
    req.on('error', () => undefined);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    // Keeps sending until the answer comes: the Worker must not wait for an end that never comes.
    await until('the 413', async () => {
      if (status !== undefined) return true;
      if (sent < 64 * 1024 * 1024 && req.writable) {
        req.write(chunk);
        sent += chunk.length;
      }
      return false;
    });
    req.destroy();
    expect(status).toBe(413);
    expect(sent).toBeGreaterThan(1024 * 1024);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('wrong passwords', () => {
  it.each([
    ['GET', '/outbox'],
    ['GET', '/check'],
    ['POST', '/wake'],
  ])(
    'on %s %s: after 10, wrong ones wait their turn and get 429; the right one still gets in',
    async (method, path) => {
      const worker = await w.started(startWorker(w.scriptPath, w.settings(await down())));
      const wrong = basic({ user: AUTH.user, pass: 'guess' });
      const answers: Response[] = [];
      for (let i = 0; i < 12; i++)
        answers.push(await fetch(`${worker.url}${path}`, { method, headers: { authorization: wrong } }));
      const statuses = answers.map((a) => a.status);
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(statuses[11]).toBe(429);
      expect(Number(answers[11]!.headers.get('retry-after'))).toBeGreaterThan(0);
      // The right password is never refused because of someone else's wrong ones (shared/login-backoff.ts).
      const right = await fetch(`${worker.url}${path}`, { method, headers: { authorization: basic(AUTH) } });
      expect(right.status).toBe(200);
      expect(await right.text()).not.toContain(AUTH.pass);
      await w.stop(worker);
    },
  );
});

describe('a delivery the sink answers PONG to but refuses with 5xx', () => {
  it('steps aside after three tries; the line behind it is delivered, then it is, on its own schedule', async () => {
    const sink = await w.started(startStubSink(AUTH));
    const worker = await w.started(startWorker(w.scriptPath, w.settings(sink.url)));
    for (let i = 0; i < 3; i++) sink.plan.receive.push({ status: 500, body: '{"code": 500, "msg": "broken"}\n' });
    const poison = event();
    const behind = [event(), event(), event()];
    for (const payload of [poison, ...behind])
      expect((await deliver(worker.url, payload, { secret: SECRET })).status).toBe(200);
    await until('all four stored', async () => sink.stored.size === 4);
    const ids = receivedIds(sink);
    // Three refused tries of the poison, then the line behind it in order, then the poison again.
    expect(ids).toEqual([
      poison.messageId,
      poison.messageId,
      poison.messageId,
      ...behind.map((b) => b.messageId),
      poison.messageId,
    ]);
    expect(worker.lines.some((l) => /seq 1 stepped aside until .*: server-error/.test(l))).toBe(true);
    await until('the outbox to settle', async () => (await outbox(worker.url, AUTH)).delivered === 4);
  });
});

describe("UP42's signature", () => {
  it('reaches the sink unchanged in X-Up42-Signed-Headers', async () => {
    const sink = await w.started(startStubSink(AUTH));
    const worker = await w.started(startWorker(w.scriptPath, w.settings(sink.url)));
    const body = JSON.stringify(event());
    const headers = signedDeliveryHeaders({ body, secret: SECRET, created: nowSeconds() });
    expect((await fetch(worker.url, { method: 'POST', headers, body })).status).toBe(200);
    await until('the delivery', async () => sink.stored.size === 1);
    const [received] = sink.requests.filter((r) => r.path === '/receive-webhooks');
    expect(received!.body).toBe(body);
    const carried = JSON.parse(received!.signedHeaders!) as Record<string, string>;
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(carried.signature).toBe(lower.signature);
    expect(carried['signature-input']).toBe(lower['signature-input']);
    for (const name of ['content-type', 'date', 'content-digest']) expect(carried[name]).toBe(lower[name]);
  });
});
