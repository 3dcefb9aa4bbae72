import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { deliver, event, nowSeconds } from '../forwarder/deliveries.js';
import { startStubSink, type StubSink } from '../forwarder/stub-sink.js';
import { checkAnswer, payloadsOf, SECRET, VALIDATION_CASES } from '../forwarder/validation-table.js';
import { buildWorkerOnce, outbox, startWorker, until, type RunningWorker } from './support.js';

// The Worker in workerd (through Miniflare): the forwarder's validation table, the answers to bad input and bad
// settings, and the delivery of what it kept to a stub sink, byte for byte.

const USER = 'relay-user';
const PASS = 'sink-pass-Hn4v-TOPSECRET';
const AUTH = { user: USER, pass: PASS };

/** Every answer of this file, checked for secrets at the end. */
const seen: string[] = [];

let built: Awaited<ReturnType<typeof buildWorkerOnce>>;
let sink: StubSink;
let worker: RunningWorker;
let current = '';

const baseEnv = (): Record<string, string> => ({
  UP42_WEBHOOK_SECRET: SECRET,
  SINK_URL: sink.url,
  SINK_BASIC_AUTH_USER: USER,
  SINK_BASIC_AUTH_PASS: PASS,
  FORWARD_MAX_ATTEMPTS: '2',
  FORWARD_DEADLINE_MS: '4000',
});

/** Runs the Worker with `env` (restarting workerd only when the settings change). */
async function withSettings(env: Record<string, string>) {
  const key = JSON.stringify(env);
  if (key === current) return;
  await worker.reconfigure(env);
  current = key;
}

beforeAll(async () => {
  built = await buildWorkerOnce();
  sink = await startStubSink(AUTH);
  worker = await startWorker(built.scriptPath, baseEnv());
  current = JSON.stringify(baseEnv());
});

afterAll(async () => {
  await worker?.close();
  await sink?.close();
  await built?.cleanup();
  for (const text of seen) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(PASS);
  }
});

const posted = () => sink.requests.filter((r) => r.path === '/receive-webhooks');

describe('the shared validation table, on the Worker', () => {
  it.each(VALIDATION_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await withSettings({ ...baseEnv(), ...c.env });
    const storedBefore = sink.stored.size;
    const kept: { messageId: string; body: string }[] = [];
    const payloads = payloadsOf(c.sends);
    for (const [i, send] of c.sends.entries()) {
      const payload = payloads[i]!;
      const answer = await deliver(worker.url, payload, send.options());
      seen.push(answer.text);
      checkAnswer(answer, send, 'kept');
      if (send.expect.status === 200) {
        expect(answer.json.messageId).toBe(payload.messageId);
        kept.push({ messageId: payload.messageId, body: JSON.stringify(payload) });
      }
    }
    await until('the outbox to deliver what it kept', async () => (await outbox(worker.url, AUTH)).waiting === 0);
    // What was answered 200 reached the sink, as sent; nothing else did.
    expect(sink.stored.size - storedBefore).toBe(new Set(kept.map((k) => k.messageId)).size);
    for (const k of kept) {
      expect(sink.stored.has(k.messageId)).toBe(true);
      expect(posted().find((r) => r.body.includes(k.messageId))!.body).toBe(k.body);
    }
  });
});

describe('the body, byte for byte', () => {
  it('checks the digest against the bytes received and hands the sink exactly those bytes', async () => {
    await withSettings(baseEnv());
    const payload = { ...event({ status: 'FAILED' }), note: 'Zürich ✓ \u2028 "quoted" \\ slash/' };
    const body = `${JSON.stringify(payload, null, 3)}\n`;
    const headers = signedDeliveryHeaders({ body, secret: SECRET, created: nowSeconds() });
    const response = await fetch(worker.url, { method: 'POST', headers, body });
    seen.push(await response.text());
    expect(response.status).toBe(200);
    await until('the delivery', async () => sink.stored.has(payload.messageId));
    expect(posted().find((r) => r.body.includes(payload.messageId))!.body).toBe(body);
  });
});

describe('bad input: a clear answer, nothing kept', () => {
  it('400 to a body that is not JSON or not UTF-8, 413 over 1 MiB, and keeps serving', async () => {
    await withSettings(baseEnv());
    const before = (await outbox(worker.url, AUTH)).delivered;
    const notJson = await fetch(worker.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"event": ',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ outcome: 'bad-request', message: 'the body is not valid JSON' });
    const notUtf8 = await fetch(worker.url, { method: 'POST', body: new Uint8Array([0x7b, 0xff, 0x7d]) });
    expect(notUtf8.status).toBe(400);
    expect(await notUtf8.json()).toMatchObject({ message: 'the body is not valid UTF-8' });
    const big = await fetch(worker.url, { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }) });
    expect(big.status).toBe(413);
    seen.push(await big.text());
    const payload = event();
    expect((await deliver(worker.url, payload, { secret: SECRET })).status).toBe(200);
    await until('the delivery', async () => sink.stored.has(payload.messageId));
    // The outbox counts it once the sink has answered: a moment after the sink stored it.
    await until('the count', async () => (await outbox(worker.url, AUTH)).delivered === before + 1);
  });

  it('answers only POST on / and GET on /outbox and /check', async () => {
    expect((await fetch(worker.url)).status).toBe(405);
    expect((await fetch(`${worker.url}/outbox`, { method: 'POST' })).status).toBe(405);
  });
});

describe('GET /outbox', () => {
  it("asks for the sink's basic-auth credentials", async () => {
    await withSettings(baseEnv());
    const none = await fetch(`${worker.url}/outbox`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic');
    const wrong = await fetch(`${worker.url}/outbox`, {
      headers: { authorization: `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    seen.push(await none.text(), await wrong.text());
    expect(await outbox(worker.url, AUTH)).toMatchObject({ waiting: 0, failed: 0, sink: { away: false } });
  });
});

describe('configuration', () => {
  it('a missing or bad variable: 500 naming each, on deliveries and on GET /check; nothing kept', async () => {
    const { UP42_WEBHOOK_SECRET: _secret, SINK_URL: _url, ...env } = baseEnv();
    await withSettings({ ...env, FORWARD_PARK_DELAYS: '1,soon' });
    const answer = await deliver(worker.url, event(), { secret: SECRET });
    seen.push(answer.text);
    expect(answer.status).toBe(500);
    expect(answer.json).toMatchObject({ outcome: 'error', reason: 'invalid-config' });
    const message = String(answer.json.message);
    for (const name of ['UP42_WEBHOOK_SECRET', 'SINK_URL', 'FORWARD_PARK_DELAYS']) expect(message).toContain(name);
    const check = await fetch(`${worker.url}/check`);
    const checked = (await check.json()) as { ok: boolean; message: string };
    seen.push(JSON.stringify(checked));
    expect(check.status).toBe(500);
    expect(checked).toMatchObject({ ok: false, message });

    await withSettings(baseEnv());
    expect((await fetch(`${worker.url}/check`)).status).toBe(200);
    expect((await outbox(worker.url, AUTH)).waiting).toBe(0);
  });
});
