import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { parseValidateConfig } from '../../shared/config.js';
import { makeEvent } from '../../shared/events.js';
import { basic, call, dumpLines, post, startTestSink, type TestSink } from './sink-support.js';

/*
 * The sink's own check of UP42's signature (UP42_WEBHOOK_SECRET set on the sink). The signatures here are made
 * with node's createHmac and createHash over text written out in the test, as UP42's scheme describes it: the
 * covered header values run together, HMAC-SHA256, base64; not with the code under test.
 */

const SECRET = 'sink-side-secret-Qm8v-TOPSECRET';
const USER = 'relay';
const PASS = 'sink-pass-7yW2-TOPSECRET';
const AUTH = basic(USER, PASS);

function up42Headers(
  body: string,
  options: { secret?: string; components?: string[]; created?: number; date?: string } = {},
): Record<string, string> {
  const created = options.created ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    date: options.date ?? new Date(created * 1000).toUTCString(),
    'content-digest': `sha-256=:${createHash('sha256').update(body).digest('base64')}:`,
  };
  const components = options.components ?? ['content-type', 'date', 'content-digest'];
  const mac = createHmac('sha256', options.secret ?? SECRET)
    .update(components.map((c) => headers[c]).join(''))
    .digest('base64');
  return {
    ...headers,
    signature: `up42-sig=${mac}`,
    'signature-input': `up42-sig=(${components.map((c) => `"${c}"`).join(' ')});created=${created}`,
  };
}

/** What a forwarder sends: its credentials, and UP42's signature packed in one header. */
const forwarded = (signed: Record<string, string>) => ({
  authorization: AUTH,
  'x-up42-signed-headers': JSON.stringify({
    signature: signed.signature,
    'signature-input': signed['signature-input'],
    'content-type': signed['content-type'],
    date: signed.date,
    'content-digest': signed['content-digest'],
  }),
});

const event = (status = 'FAILED', liveMode = true, kind: 'job.status' | 'order.status' = 'job.status') =>
  JSON.stringify(
    makeEvent({ event: kind, status, liveMode, messageId: randomUUID(), timestamp: new Date().toISOString() }),
  );

const up42Config = (env: Record<string, string> = {}) => {
  const parsed = parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, ...env });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
};

const envelopes = async (sink: TestSink) =>
  dumpLines(
    (await call(sink.url, '/dump-webhooks?envelope=true', { headers: { authorization: AUTH } })).text,
  ).lines.map(
    (l) => JSON.parse(l) as { key: number; verified: boolean | null; signed: string[] | null; body: unknown },
  );

const checkReports = async (sink: TestSink) =>
  JSON.parse((await call(sink.url, '/check', { headers: { authorization: AUTH } })).text) as {
    verifying: boolean;
    verifications: { outcome: string; reason: string | null; signature: { components: string[] | null } }[];
  };

describe('a sink with UP42_WEBHOOK_SECRET verifies what a forwarder brings it', () => {
  let sink: TestSink;
  beforeAll(async () => {
    sink = await startTestSink({ store: 'memory', auth: { user: USER, pass: PASS }, up42: up42Config() });
  });
  afterAll(() => sink.close());

  it('stores a delivery whose signature and digest check, and records that it did and what was covered', async () => {
    const body = event();
    const signed = up42Headers(body, { created: Math.floor(Date.now() / 1000) - 3 * 3600 });
    // Three hours late (a parked delivery): no time window for a forwarded one.
    const reply = await post(sink.url, body, forwarded(signed));
    expect(reply.status).toBe(200);
    const [stored] = (await envelopes(sink)).slice(-1);
    expect(stored).toMatchObject({ verified: true, signed: ['content-type', 'date', 'content-digest'] });
    expect(JSON.stringify(stored!.body)).toBe(JSON.stringify(JSON.parse(body)));
  });

  it('refuses a body changed under a captured signature, even with the right password', async () => {
    const body = event();
    const signed = up42Headers(body);
    const forged = body.replace('"FAILED"', '"SUCCEEDED"');
    const before = (await envelopes(sink)).length;
    const reply = await post(sink.url, forged, forwarded(signed));
    expect(reply.status).toBe(401);
    expect(reply.headers['x-signature-rejected']).toBe('digest-mismatch');
    expect(JSON.parse(reply.text).msg).toMatch(/^signature rejected \(digest-mismatch\): the body does not match/);
    expect((await envelopes(sink)).length).toBe(before);
  });

  it('refuses, with the right password, what carries no signature or another secret', async () => {
    const body = event();
    const unsigned = await post(sink.url, body, { authorization: AUTH });
    expect([unsigned.status, unsigned.headers['x-signature-rejected']]).toEqual([401, 'missing-signature']);
    const other = await post(sink.url, body, forwarded(up42Headers(body, { secret: 'another-secret' })));
    expect([other.status, other.headers['x-signature-rejected']]).toEqual([401, 'mac-mismatch']);
    const weak = await post(sink.url, body, forwarded(up42Headers(body, { components: ['content-type', 'date'] })));
    expect([weak.status, weak.headers['x-signature-rejected']]).toEqual([401, 'weak-signature']);
    expect(JSON.parse(weak.text).msg).toContain('covers "content-type", "date" and no content-digest');
  });

  it('GET /check shows the last verifications, newest first, without a body or a MAC', async () => {
    const reports = await checkReports(sink);
    expect(reports.verifying).toBe(true);
    expect(reports.verifications.slice(0, 4).map((r) => [r.outcome, r.reason])).toEqual([
      ['rejected', 'weak-signature'],
      ['rejected', 'mac-mismatch'],
      ['rejected', 'missing-signature'],
      ['rejected', 'digest-mismatch'],
    ]);
    const text = JSON.stringify(reports);
    expect(text).not.toContain('up42-sig=');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('"body":{');
    expect((await call(sink.url, '/check')).status).toBe(401);
  });
});

describe('direct mode: UP42 delivers to the sink itself, its signature in place of the credentials', () => {
  let sink: TestSink;
  beforeAll(async () => {
    sink = await startTestSink({ store: 'memory', auth: { user: USER, pass: PASS }, up42: up42Config() });
  });
  afterAll(() => sink.close());

  it('stores a live FAILED job signed by UP42, once, however often it is replayed', async () => {
    const body = event();
    const signed = up42Headers(body, { components: ['content-type', 'content-digest'] });
    const first = await post(sink.url, body, signed);
    expect(first.status).toBe(200);
    const again = await post(sink.url, body, signed);
    expect([again.status, JSON.parse(again.text).msg]).toEqual([200, `value with key 1 already stored`]);
    expect(await envelopes(sink)).toHaveLength(1);
  });

  it('applies the time window, the status filter and test mode as a forwarder does', async () => {
    const staleBody = event();
    const staleReply = await post(
      sink.url,
      staleBody,
      up42Headers(staleBody, { created: Math.floor(Date.now() / 1000) - 600 }),
    );
    expect([staleReply.status, staleReply.headers['x-signature-rejected']]).toEqual([401, 'stale']);
    const running = event('RUNNING');
    const ignored = await post(sink.url, running, up42Headers(running));
    expect([ignored.status, JSON.parse(ignored.text).msg]).toEqual([
      202,
      'ignored: status RUNNING is not in the notify list',
    ]);
    const testEvent = event('PENDING', false);
    const test = await post(sink.url, testEvent, up42Headers(testEvent));
    expect(test.status).toBe(202);
    // The test event is verified and reported even though it is not stored.
    const [latest] = (await checkReports(sink)).verifications;
    expect(latest).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringMatching(/test event/),
      signature: { components: ['content-type', 'date', 'content-digest'] },
    });
    expect(await envelopes(sink)).toHaveLength(1);
  });

  it('refuses a bad signature; unsigned requests meet basic auth; neither counts as a failed login', async () => {
    const body = event();
    for (let i = 0; i < 12; i++) {
      const reply = await post(sink.url, body, up42Headers(body, { secret: `guess-${i}` }));
      expect(reply.status).toBe(401);
    }
    const unsigned = await post(sink.url, body);
    expect([unsigned.status, unsigned.headers['www-authenticate']]).toEqual([401, expect.stringMatching(/^Basic/)]);
    expect((await call(sink.url, '/stats', { headers: { authorization: AUTH } })).status).toBe(200);
  });
});

describe('a sink without the secret', () => {
  it('stores as before, each webhook recorded as not checked, and says so at GET /check', async () => {
    const sink = await startTestSink({ store: 'memory', auth: { user: USER, pass: PASS } });
    try {
      expect((await post(sink.url, event(), { authorization: AUTH })).status).toBe(200);
      expect(await envelopes(sink)).toEqual([expect.objectContaining({ verified: null, signed: null })]);
      expect(await checkReports(sink)).toEqual({ verifying: false, verifications: [] });
      // Without the secret there is no direct mode: UP42's headers alone do not replace the credentials.
      const body = event();
      expect((await post(sink.url, body, up42Headers(body))).status).toBe(401);
    } finally {
      await sink.close();
    }
  });
});
