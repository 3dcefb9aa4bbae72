import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startRunner, type RunningRunner } from '../../forwarder/runner/server.js';
import { ROUTES } from '../../sink/routes.js';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { basic, call, startTestSink, type TestSink } from '../sink/sink-support.js';
import { loadCorpus, rawExchange, stopInProcess, type Part, type RawReply } from './support.js';

// Hostile and broken input from the corpus in corpus/, sent byte for byte over TCP to the sink and to the
// local runner (and, for the runner's signature shapes, over HTTP). Every case has an expected answer; after
// each one the store must hold exactly what it held before (plus what the case says it stores) and the
// server must answer the next good request normally. The sink runs in-process with short header and request
// timeouts so slow clients are answered within a second or two.

type Server = 'sink' | 'runner';
interface RawCase {
  name: string;
  send: Part[];
  end: 'hold' | 'write' | 'abort';
  waitMs?: number;
  expect: Record<Server, number | number[] | null | 'pending'>;
  stored?: Partial<Record<Server, number>>;
  bodyMatch?: Partial<Record<Server, string>>;
  note?: string;
}
interface SignatureCase {
  name: string;
  signature: string | null;
  'signature-input': string | null;
  headers?: Record<string, string>;
  note?: string;
  expect: number;
  reason?: string;
}

const USER = 'relay-user';
const PASS = 'sink-pass-9bQz-TOPSECRET';
const SECRET = 'up42-whsec-Xx31-TOPSECRET';
const OTHER_SECRET = 'some-other-secret-entirely';
const AUTH = basic(USER, PASS);
const BODY_LIMIT = 64 * 1024;

const raw = await loadCorpus<{ cases: RawCase[] }>('raw-requests.json');
const signatures = await loadCorpus<{ cases: SignatureCase[] }>('runner-signatures.json');
const routes = await loadCorpus<{ methods: string[]; routes: Record<string, string[] | 'any'> }>('sink-routes.json');

let dataDir: string;
let sink: TestSink;
/** The runner's own sink, in memory: what the runner forwards lands here. */
let downstream: TestSink;
let runner: RunningRunner;
const runnerLogs: string[] = [];
/** Every answer of this file, raw, for the checks at the end. */
const answers: Record<Server, string[]> = { sink: [], runner: [] };

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'reliability-hostile-'));
  sink = await startTestSink(
    { dataDir, auth: { user: USER, pass: PASS }, maxBodyBytes: BODY_LIMIT },
    { server: { headersTimeoutMs: 500, requestTimeoutMs: 1_000 } },
  );
  downstream = await startTestSink({ store: 'memory', auth: { user: USER, pass: PASS } });
  runner = await startRunner(
    { host: '127.0.0.1', port: 0 },
    {
      UP42_WEBHOOK_SECRET: SECRET,
      SINK_URL: downstream.url,
      SINK_BASIC_AUTH_USER: USER,
      SINK_BASIC_AUTH_PASS: PASS,
      FORWARD_MAX_ATTEMPTS: '1',
      FORWARD_DEADLINE_MS: '3000',
    },
    { log: (line) => runnerLogs.push(line), maxBodyBytes: BODY_LIMIT },
  );
});
afterAll(() => stopInProcess(runner, [sink, downstream], dataDir));

const portOf = (s: Server) => Number(new URL(s === 'sink' ? sink.url : runner.url).port);
const storedCount = (s: Server) => (s === 'sink' ? sink.store.count : downstream.store.count);

const fill = (text: string) =>
  text
    .replaceAll('{{AUTH}}', AUTH)
    .replaceAll('{{AUTH_B64}}', AUTH.slice('Basic '.length))
    .replaceAll('{{WRONG_AUTH}}', basic(USER, `${PASS}x`))
    .replaceAll('{{USER_ONLY}}', Buffer.from(USER).toString('base64'))
    .replaceAll('{{USER}}', USER)
    .replaceAll('{{PASS}}', PASS);
const fillParts = (parts: Part[]): Part[] => parts.map((p) => (typeof p === 'string' ? fill(p) : p));

/** The server still answers a good request as it should. */
async function answersNormally(s: Server): Promise<void> {
  if (s === 'sink') {
    const pong = await call(sink.url, '/ping');
    expect([pong.status, pong.text]).toEqual([200, 'PONG']);
    const stats = await call(sink.url, '/stats', { headers: { authorization: AUTH } });
    expect(stats.status).toBe(200);
    expect(JSON.parse(stats.text)).toMatchObject({ count: sink.store.count });
  } else {
    const reply = await fetch(runner.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const json = (await reply.json()) as { outcome?: string; reason?: string };
    expect([reply.status, json.outcome, json.reason]).toEqual([401, 'rejected', 'missing-signature']);
  }
}

function checkReply(s: Server, c: RawCase, reply: RawReply): void {
  const expected = c.expect[s];
  const context = `${s}: ${c.name}: got ${JSON.stringify(reply.data.slice(0, 300))} (${reply.ended})`;
  if (expected === null) {
    expect({ context, statuses: reply.statuses }).toEqual({ context, statuses: [] });
  } else if (expected === 'pending') {
    expect({ context, statuses: reply.statuses, ended: reply.ended }).toEqual({
      context,
      statuses: [],
      ended: 'waited',
    });
  } else {
    const list = Array.isArray(expected) ? expected : [expected];
    expect({ context, statuses: reply.statuses }).toEqual({ context, statuses: list });
  }
  const match = c.bodyMatch?.[s];
  if (match !== undefined) expect(reply.data).toMatch(new RegExp(match));
  if (reply.data !== '') answers[s].push(reply.data);
}

async function runCase(s: Server, c: RawCase): Promise<void> {
  const before = storedCount(s);
  const reply = await rawExchange(portOf(s), fillParts(c.send), {
    endWrite: c.end === 'write',
    abort: c.end === 'abort',
    waitMs: c.waitMs ?? (c.end === 'hold' ? 2_500 : 1_500),
  });
  checkReply(s, c, reply);
  // A store append that was under way when the client left completes before the next turn; give it one. What is
  // checked is that nothing more was stored, which no event announces, so this pause cannot be a wait on one.
  await new Promise((r) => setTimeout(r, 20));
  expect({ case: c.name, stored: storedCount(s) - before }).toEqual({ case: c.name, stored: c.stored?.[s] ?? 0 });
  await answersNormally(s);
}

const isSlow = (c: RawCase) => c.waitMs !== undefined;

describe.each(['sink', 'runner'] as const)('the raw-request corpus against the %s', (s) => {
  it.each(raw.cases.filter((c) => !isSlow(c)).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await runCase(s, c);
  });

  it(
    'slow clients: answered or still waiting as the corpus says, ' + 'all at once, without blocking anyone else',
    async () => {
      const slow = raw.cases.filter(isSlow);
      const before = storedCount(s);
      const replies = Promise.all(
        // The runner has no timeouts of its own to shorten: a while without an answer is what is checked there.
        slow.map((c) => rawExchange(portOf(s), fillParts(c.send), { waitMs: s === 'runner' ? 1_500 : c.waitMs! })),
      );
      // While they trickle, everyone else is served.
      await answersNormally(s);
      const got = await replies;
      slow.forEach((c, i) => checkReply(s, c, got[i]!));
      expect(storedCount(s) - before).toBe(slow.reduce((n, c) => n + (c.stored?.[s] ?? 0), 0));
      await answersNormally(s);
    },
  );
});

describe('the sink: wrong methods on every route', () => {
  it('the corpus table covers every route the sink has', () => {
    expect(Object.keys(routes.routes).sort()).toEqual([...ROUTES.keys(), '/ping'].sort());
  });

  const wrong = Object.entries(routes.routes).flatMap(([route, allowed]) =>
    allowed === 'any'
      ? []
      : routes.methods.filter((m) => !allowed.includes(m)).map((m) => [m, route, allowed.join(', ')] as const),
  );
  it.each(wrong)('%s %s: 405, Allow: %s, nothing stored or deleted', async (method, route, allow) => {
    const before = sink.store.count;
    const reply = await rawExchange(portOf('sink'), [
      `${method} ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${AUTH}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
    ]);
    expect(reply.statuses).toEqual([405]);
    expect(reply.data).toMatch(new RegExp(`\\r\\nAllow: ${allow}\\r\\n`, 'i'));
    if (method !== 'HEAD') expect(reply.data).toMatch(/\r\n\r\n\{"code": 405, "msg": "method not allowed"\}\n$/);
    answers.sink.push(reply.data);
    expect(sink.store.count).toBe(before);
  });
});

describe('the runner: every malformed signature shape', () => {
  const created = () => Math.floor(Date.now() / 1000);
  let n = 0;

  it.each(signatures.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    n += 1;
    const body = JSON.stringify({
      event: 'job.status',
      messageId: `sig-case-${n}-${Date.now()}`,
      liveMode: true,
      timestamp: new Date().toISOString(),
      body: { status: 'FAILED', jobId: 'j' },
    });
    const now = created();
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

    const before = downstream.store.count;
    const reply = await fetch(runner.url, { method: 'POST', headers, body });
    const text = await reply.text();
    answers.runner.push(text);
    const json = JSON.parse(text) as { outcome?: string; reason?: string };
    expect({ status: reply.status, outcome: json.outcome }).toEqual({
      status: c.expect,
      outcome: c.expect === 200 ? 'forwarded' : 'rejected',
    });
    if (c.reason !== undefined) expect(json.reason).toBe(c.reason);
    // Nothing reached the sink but the control case.
    expect(downstream.store.count - before).toBe(c.expect === 200 ? 1 : 0);
    await answersNormally('runner');
  });
});

describe('what the answers say about the servers', () => {
  it('every sink answer names the sink as LeRenard2000 and no technology or version', () => {
    const responses = answers.sink
      .flatMap((data) => data.split(/(?=HTTP\/1\.[01] \d{3} )/))
      .filter((r) => r.startsWith('HTTP/'));
    expect(responses.length).toBeGreaterThan(100);
    for (const r of responses) {
      const head = r.slice(0, r.indexOf('\r\n\r\n') + 2);
      expect(head).toMatch(/\r\nServer: LeRenard2000\r\n/);
      expect(head).not.toMatch(/x-powered-by|node|express|undici|tsx|openresty|nginx|\bv?\d+\.\d+\.\d+/i);
      expect(r).not.toMatch(/node\.?js|express|openresty|nginx|undici|\bat .*\.(ts|js):\d+/i);
    }
  });

  it('no runner answer names a technology, a version or a stack frame', () => {
    expect(answers.runner.length).toBeGreaterThan(50);
    for (const r of answers.runner) {
      expect(r).not.toMatch(/x-powered-by|server:|node\.?js|express|openresty|nginx|undici|\bat .*\.(ts|js):\d+/i);
    }
  });

  it('the runner logged one line per request, none with a secret or an Authorization value', () => {
    expect(runnerLogs.length).toBeGreaterThan(50);
    for (const line of [...runnerLogs, ...sink.lines, ...sink.warnings, ...downstream.lines]) {
      expect(line).not.toContain(PASS);
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain(AUTH.slice('Basic '.length));
    }
  });
});
