import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { loadCorpus, rawExchange, type Part, type RawReply } from '../reliability/support.js';
import { startTestSink, type TestSink } from '../sink/sink-support.js';
import { buildWorkerOnce, outbox, startWorker, until, type RunningWorker } from './support.js';

// Hostile and broken input from test/reliability/corpus/, sent to the Worker in workerd: the raw requests byte
// for byte over TCP (the Worker's column of raw-requests.json), and every malformed signature shape over HTTP
// (worker-signatures.json). Every case has an expected answer; nothing but a well-signed delivery is kept or
// reaches the sink, and after each case the Worker answers the next request normally.

interface RawCase {
  name: string;
  send: Part[];
  end: 'hold' | 'write' | 'abort';
  waitMs?: number;
  expect: { worker: number | number[] | null | 'pending' };
}
interface SignatureCase {
  name: string;
  signature: string | null;
  'signature-input': string | null;
  headers?: Record<string, string>;
  expect: number;
  reason?: string;
}

const USER = 'relay-user';
const PASS = 'sink-pass-9bQz-TOPSECRET';
const SECRET = 'up42-whsec-Xx31-TOPSECRET';
const OTHER_SECRET = 'some-other-secret-entirely';
const AUTH = { user: USER, pass: PASS };
const BASIC = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;

const raw = await loadCorpus<{ cases: RawCase[] }>('raw-requests.json');
const signatures = await loadCorpus<{ cases: SignatureCase[] }>('worker-signatures.json');

let built: Awaited<ReturnType<typeof buildWorkerOnce>>;
/** The Worker's sink, in memory: what the outbox delivers lands here. */
let sink: TestSink;
let worker: RunningWorker;
/** Every answer of this file, raw, for the checks at the end. */
const answers: string[] = [];

beforeAll(async () => {
  built = await buildWorkerOnce();
  sink = await startTestSink({ store: 'memory', auth: AUTH });
  worker = await startWorker(built.scriptPath, {
    UP42_WEBHOOK_SECRET: SECRET,
    SINK_URL: sink.url,
    SINK_BASIC_AUTH_USER: USER,
    SINK_BASIC_AUTH_PASS: PASS,
    FORWARD_MAX_ATTEMPTS: '1',
    FORWARD_DEADLINE_MS: '3000',
  });
});
afterAll(async () => {
  await worker?.close();
  await sink?.close();
  await built?.cleanup();
});

const port = () => Number(new URL(worker.url).port);
const fill = (text: string) =>
  text
    .replaceAll('{{AUTH}}', BASIC)
    .replaceAll('{{AUTH_B64}}', BASIC.slice('Basic '.length))
    .replaceAll('{{WRONG_AUTH}}', `Basic ${Buffer.from(`${USER}:${PASS}x`).toString('base64')}`)
    .replaceAll('{{USER_ONLY}}', Buffer.from(USER).toString('base64'))
    .replaceAll('{{USER}}', USER)
    .replaceAll('{{PASS}}', PASS);

/** The Worker still answers an unsigned delivery as it should, and has kept nothing it should not have. */
async function answersNormally(kept: number): Promise<void> {
  const reply = await fetch(worker.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  const json = (await reply.json()) as { outcome?: string; reason?: string };
  expect([reply.status, json.outcome, json.reason]).toEqual([401, 'rejected', 'missing-signature']);
  const view = await outbox(worker.url, AUTH);
  expect(view.waiting + view.delivered + view.failed).toBe(kept);
}

function checkReply(c: RawCase, reply: RawReply): void {
  const expected = c.expect.worker;
  const context = `${c.name}: got ${JSON.stringify(reply.data.slice(0, 300))} (${reply.ended})`;
  if (expected === 'pending') {
    expect({ context, statuses: reply.statuses, ended: reply.ended }).toEqual({
      context,
      statuses: [],
      ended: 'waited',
    });
  } else {
    const list = expected === null ? [] : Array.isArray(expected) ? expected : [expected];
    expect({ context, statuses: reply.statuses }).toEqual({ context, statuses: list });
  }
  if (reply.data !== '') answers.push(reply.data);
}

const isSlow = (c: RawCase) => c.waitMs !== undefined;
const send = (c: RawCase, waitMs?: number) =>
  rawExchange(
    port(),
    c.send.map((p) => (typeof p === 'string' ? fill(p) : p)),
    {
      endWrite: c.end === 'write',
      abort: c.end === 'abort',
      waitMs: waitMs ?? c.waitMs ?? (c.end === 'hold' ? 2_500 : 1_500),
    },
  );

describe('the raw-request corpus against the Worker', () => {
  it.each(raw.cases.filter((c) => !isSlow(c)).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    checkReply(c, await send(c));
    await answersNormally(0);
  });

  it('slow clients: still waiting, all at once, without blocking anyone else', async () => {
    const slow = raw.cases.filter(isSlow);
    // The Worker has no timeouts of its own to shorten: a while without an answer is what is checked.
    const replies = Promise.all(slow.map((c) => send(c, 1_500)));
    await answersNormally(0);
    const got = await replies;
    slow.forEach((c, i) => checkReply(c, got[i]!));
    await answersNormally(0);
  });
});

describe('every malformed signature shape', () => {
  let n = 0;
  let kept = 0;

  it.each(signatures.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    n += 1;
    const body = JSON.stringify({
      event: 'job.status',
      messageId: `sig-case-${n}-${Date.now()}`,
      liveMode: true,
      timestamp: new Date().toISOString(),
      body: { status: 'FAILED', jobId: 'j' },
    });
    const now = Math.floor(Date.now() / 1000);
    const good = signedDeliveryHeaders({ body, secret: SECRET, created: now });
    const mac = good.signature!.slice('up42-sig='.length);
    const otherMac = signedDeliveryHeaders({ body, secret: OTHER_SECRET, created: now }).signature!.slice(
      'up42-sig='.length,
    );
    const signedRest = `${good.date}${good['content-digest']}`;
    const put = (v: string) =>
      v
        .replaceAll('{{SIGNED_STRING}}', `${good['content-type']}${signedRest}`)
        .replaceAll('{{SIGNED_REST}}', signedRest)
        .replaceAll('{{MAC}}', mac)
        .replaceAll('{{MAC_HALF}}', mac.slice(0, 22))
        .replaceAll('{{MAC_UNPADDED}}', mac.replace(/=+$/, ''))
        .replaceAll('{{MAC_HEX}}', Buffer.from(mac, 'base64').toString('hex'))
        .replaceAll('{{OTHER_MAC}}', otherMac)
        .replaceAll('{{CREATED}}', String(now))
        .replaceAll('{{STALE}}', String(now - 3600))
        .replaceAll('{{FUTURE}}', String(now + 3600));
    const headers: Record<string, string> = { ...good };
    for (const [name, value] of Object.entries(c.headers ?? {})) headers[name] = put(value);
    delete headers.signature;
    delete headers['signature-input'];
    if (c.signature !== null) headers.signature = put(c.signature);
    if (c['signature-input'] !== null) headers['signature-input'] = put(c['signature-input']);

    const before = sink.store.count;
    const reply = await fetch(worker.url, { method: 'POST', headers, body });
    const text = await reply.text();
    answers.push(text);
    const json = JSON.parse(text) as { outcome?: string; reason?: string };
    expect({ status: reply.status, outcome: json.outcome }).toEqual({
      status: c.expect,
      outcome: c.expect === 200 ? 'kept' : 'rejected',
    });
    if (c.reason !== undefined) expect(json.reason).toBe(c.reason);
    // Nothing reaches the sink but the control case.
    if (c.expect === 200) {
      kept += 1;
      await until('the delivery', async () => sink.store.count === before + 1);
    }
    await answersNormally(kept);
    expect(sink.store.count).toBe(before + (c.expect === 200 ? 1 : 0));
  });
});

describe('what the answers say', () => {
  it('no answer of the Worker names a stack frame, and none carries a secret or the credentials', () => {
    expect(answers.length).toBeGreaterThan(100);
    for (const r of answers) {
      expect(r).not.toMatch(/x-powered-by|node\.?js|express|openresty|nginx|undici|\bat .*\.(ts|js|mjs):\d+/i);
      for (const secret of [PASS, SECRET, BASIC.slice('Basic '.length)]) expect(r).not.toContain(secret);
    }
  });
});
