import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROUTES } from '../../sink/routes.js';
import { basic, call, startTestSink, type TestSink } from '../sink/sink-support.js';
import { loadCorpus, rawExchange, stopInProcess, type Part, type RawReply } from './support.js';

// Hostile and broken input from the corpus in corpus/, sent byte for byte over TCP to the sink (the Worker's
// column and its signature shapes run in test/worker/hostile.test.ts). Every case has an expected answer; after
// each one the store must hold exactly what it held before (plus what the case says it stores) and the sink
// must answer the next good request normally. The sink runs in-process with short header and request
// timeouts so slow clients are answered within a second or two.

type Server = 'sink';
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

const USER = 'relay-user';
const PASS = 'sink-pass-9bQz-TOPSECRET';
const AUTH = basic(USER, PASS);
const BODY_LIMIT = 64 * 1024;

const raw = await loadCorpus<{ cases: RawCase[] }>('raw-requests.json');
const routes = await loadCorpus<{ methods: string[]; routes: Record<string, string[] | 'any'> }>('sink-routes.json');

let dataDir: string;
let sink: TestSink;
/** Every answer of this file, raw, for the checks at the end. */
const answers: Record<Server, string[]> = { sink: [] };

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'reliability-hostile-'));
  sink = await startTestSink(
    { dataDir, auth: { user: USER, pass: PASS }, maxBodyBytes: BODY_LIMIT },
    { server: { headersTimeoutMs: 500, requestTimeoutMs: 1_000 } },
  );
});
afterAll(() => stopInProcess([sink], dataDir));

const portOf = (_s: Server) => Number(new URL(sink.url).port);
const storedCount = (_s: Server) => sink.store.count;

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
async function answersNormally(_s: Server): Promise<void> {
  const pong = await call(sink.url, '/ping');
  expect([pong.status, pong.text]).toEqual([200, 'PONG']);
  const stats = await call(sink.url, '/stats', { headers: { authorization: AUTH } });
  expect(stats.status).toBe(200);
  expect(JSON.parse(stats.text)).toMatchObject({ count: sink.store.count });
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

describe.each(['sink'] as const)('the raw-request corpus against the %s', (s) => {
  it.each(raw.cases.filter((c) => !isSlow(c)).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await runCase(s, c);
  });

  it(
    'slow clients: answered or still waiting as the corpus says, ' + 'all at once, without blocking anyone else',
    async () => {
      const slow = raw.cases.filter(isSlow);
      const before = storedCount(s);
      const replies = Promise.all(slow.map((c) => rawExchange(portOf(s), fillParts(c.send), { waitMs: c.waitMs! })));
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

  it('the sink logged no secret or Authorization value', () => {
    expect(sink.lines.length).toBeGreaterThan(50);
    for (const line of [...sink.lines, ...sink.warnings]) {
      expect(line).not.toContain(PASS);
      expect(line).not.toContain(AUTH.slice('Basic '.length));
    }
  });
});
