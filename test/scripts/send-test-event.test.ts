import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '../../shared/signature.js';
import { buildDelivery, makePayload, parsePayloadFile } from '../../scripts/send-test-event/delivery.js';
import { parseSendArgs } from '../../scripts/send-test-event/options.js';
import { sendTestEvents, summarize } from '../../scripts/send-test-event/send.js';
import { closedPort, startReceiver, type Received } from './support/receiver.js';
import { runScript } from './support/run-cli.js';

const SECRET = 'test-secret-for-the-sender-7f3a';
const now = () => Math.floor(Date.now() / 1000);

const verifyReceived = (r: Received, secrets = [SECRET]) =>
  verify({ headers: r.headers as Record<string, string>, secrets, now: now(), rawBody: r.body });

/** What UP42 computes, written out here from the scheme rather than taken from shared/signature.ts. */
function independentSignature(headers: Record<string, string>, secret: string): string {
  const signed = ['content-type', 'date', 'content-digest'].map((h) => headers[h]).join('');
  return `up42-sig=${createHmac('sha256', secret).update(signed).digest('base64')}`;
}

describe('buildDelivery', () => {
  it('signs content type, date and content digest of the exact body as UP42 does', () => {
    const created = 1_796_000_000;
    const d = buildDelivery({
      source: { kind: 'event', event: 'job.status', status: 'FAILED', liveMode: true },
      secret: SECRET,
      created,
    });
    expect(d.headers['signature-input']).toBe(`up42-sig=("content-type" "date" "content-digest");created=${created}`);
    expect(d.headers['content-digest']).toBe(`sha-256=:${createHash('sha256').update(d.body).digest('base64')}:`);
    expect(d.headers.date).toBe(new Date(created * 1000).toUTCString());
    expect(d.headers.signature).toBe(independentSignature(d.headers, SECRET));
    const payload = JSON.parse(d.body);
    expect(payload).toMatchObject({
      event: 'job.status',
      liveMode: true,
      messageId: d.messageId,
      body: { status: 'FAILED' },
    });
    expect(d.body).toBe(JSON.stringify(payload)); // compact
  });

  it('verifies with verify(), and a tampered copy does not', () => {
    const d = buildDelivery({
      source: { kind: 'event', event: 'order.status', status: 'FULFILLED', liveMode: false },
      secret: SECRET,
      created: now(),
    });
    expect(verify({ headers: d.headers, secrets: [SECRET], now: now(), rawBody: d.body })).toMatchObject({
      ok: true,
      value: { digestChecked: true },
    });
    const tamperedBody = d.body.replace('FULFILLED', 'FAILED_PERMANENTLY');
    expect(verify({ headers: d.headers, secrets: [SECRET], now: now(), rawBody: tamperedBody })).toMatchObject({
      ok: false,
      reason: 'digest-mismatch',
    });
    const tamperedDate = { ...d.headers, date: new Date(0).toUTCString() };
    expect(verify({ headers: tamperedDate, secrets: [SECRET], now: now(), rawBody: d.body })).toMatchObject({
      ok: false,
      reason: 'mac-mismatch',
    });
    expect(verify({ headers: d.headers, secrets: ['another-secret'], now: now(), rawBody: d.body })).toMatchObject({
      ok: false,
      reason: 'mac-mismatch',
    });
  });

  it('leaves the signature out with no secret, and gives each delivery a fresh messageId and timestamp', () => {
    const source = { kind: 'event', event: 'job.status', status: 'SUCCEEDED', liveMode: false } as const;
    const a = buildDelivery({ source, secret: null, created: now() });
    const b = buildDelivery({ source, secret: null, created: now() });
    expect(a.headers.signature).toBeUndefined();
    expect(a.headers['signature-input']).toBeUndefined();
    expect(a.headers['content-digest']).toMatch(/^sha-256=:/);
    expect(a.messageId).not.toBe(b.messageId);
    expect(JSON.parse(a.body).messageId).toBe(a.messageId);
    expect(Date.parse(JSON.parse(a.body).timestamp)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('sends a file payload as it is, renewing only a top-level string messageId', () => {
    const own = { event: 'job.status', messageId: 'fixed', liveMode: true, body: { status: 'ERROR', extra: [1, 2] } };
    expect(makePayload({ kind: 'file', payload: own }, 'fresh', 'ts')).toEqual({ ...own, messageId: 'fresh' });
    expect(makePayload({ kind: 'file', payload: { a: 1 } }, 'fresh', 'ts')).toEqual({ a: 1 });
    expect(makePayload({ kind: 'file', payload: [1, 2] }, 'fresh', 'ts')).toEqual([1, 2]);
    expect(parsePayloadFile('\uFEFF{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parsePayloadFile('{nope')).toMatchObject({ ok: false, reason: 'invalid-json' });
  });
});

describe('parseSendArgs', () => {
  const env = { UP42_WEBHOOK_SECRET: SECRET };
  it('takes defaults: a signed test job.status SUCCEEDED, once', () => {
    expect(parseSendArgs(['--url', 'http://127.0.0.1:9777'], env)).toEqual({
      ok: true,
      value: {
        url: 'http://127.0.0.1:9777/',
        event: 'job.status',
        status: 'SUCCEEDED',
        liveMode: false,
        secret: SECRET,
        count: 1,
        concurrency: 1,
        timeoutMs: 15_000,
      },
    });
  });
  it('reads the secret under its alias and lets --secret override it', () => {
    expect(parseSendArgs(['--url', 'http://h/'], { up42_webhook_secret_zwei: 'alias' })).toMatchObject({
      ok: true,
      value: { secret: 'alias' },
    });
    expect(parseSendArgs(['--url', 'http://h/', '--secret', 'flag'], env)).toMatchObject({
      ok: true,
      value: { secret: 'flag' },
    });
    expect(parseSendArgs(['--url', 'http://h/', '--unsigned'], {})).toMatchObject({
      ok: true,
      value: { secret: null },
    });
  });
  it('parses every option', () => {
    const r = parseSendArgs(
      [
        '--url',
        'https://x.m.pipedream.net',
        '--event',
        'order.status',
        '--status',
        'FAILED_PERMANENTLY',
        '--live',
        '--created',
        '1700000000',
        '--count',
        '50',
        '--concurrency',
        '8',
        '--timeout',
        '2.5',
      ],
      env,
    );
    expect(r).toMatchObject({
      ok: true,
      value: {
        event: 'order.status',
        status: 'FAILED_PERMANENTLY',
        liveMode: true,
        created: 1_700_000_000,
        count: 50,
        concurrency: 8,
        timeoutMs: 2500,
      },
    });
    expect(parseSendArgs(['--url', 'http://h/', '--event', 'order.status'], env)).toMatchObject({
      ok: true,
      value: { status: 'FULFILLED' },
    });
  });
  it.each([
    [['--url', 'http://h/', '--nope'], /Unknown option '--nope'/],
    [[], /--url is required/],
    [['--url', 'ftp://h/'], /--url must be an http\(s\) URL/],
    [['--url', 'http://h/', '--event', 'job.done'], /--event must be one of job.status, order.status/],
    [['--url', 'http://h/', '--count', '0'], /--count/],
    [['--url', 'http://h/', '--concurrency', 'many'], /--concurrency/],
    [['--url', 'http://h/', '--created', 'yesterday'], /--created/],
    [['--url', 'http://h/', '--file', 'p.json', '--live'], /--file .* cannot be combined/],
    [['--url', 'http://h/', '--unsigned', '--secret', 'x'], /contradict/],
  ])('rejects %j', (argv, message) => {
    const r = parseSendArgs(argv, env);
    expect(r).toMatchObject({ ok: false, reason: 'usage' });
    expect(!r.ok && r.message).toMatch(message);
  });
  it('asks for a secret when none is configured', () => {
    const r = parseSendArgs(['--url', 'http://h/'], {});
    expect(!r.ok && r.message).toMatch(
      /no signing secret: pass --secret, set UP42_WEBHOOK_SECRET \(or up42_webhook_secret_zwei\), or use --unsigned/,
    );
  });
});

describe('sendTestEvents against a loopback receiver', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it('delivers exactly N distinct, verifiable message ids, at most C at a time', async () => {
    receiver.received.length = 0;
    receiver.state.delayMs = 100;
    const results = await sendTestEvents({
      url: receiver.url,
      source: { kind: 'event', event: 'job.status', status: 'FAILED', liveMode: true },
      secret: SECRET,
      count: 40,
      concurrency: 5,
      timeoutMs: 10_000,
    });
    receiver.state.delayMs = 0;
    expect(summarize(results)).toMatchObject({ ok: 40, failed: 0, line: '40 deliveries: 40 ok, 0 failed' });
    expect(receiver.received).toHaveLength(40);
    const ids = receiver.received.map((r) => JSON.parse(r.body.toString('utf8')).messageId as string);
    expect(new Set(ids).size).toBe(40);
    expect(new Set(results.map((r) => r.messageId))).toEqual(new Set(ids));
    for (const r of receiver.received)
      expect(verifyReceived(r)).toMatchObject({ ok: true, value: { digestChecked: true } });
    expect(receiver.maxInFlight()).toBeLessThanOrEqual(5);
    expect(receiver.maxInFlight()).toBeGreaterThan(1);
  });

  it('signs with the --created time given, so stale signatures can be tried', async () => {
    receiver.received.length = 0;
    const created = now() - 3600;
    await sendTestEvents({
      url: receiver.url,
      source: { kind: 'event', event: 'job.status', status: 'SUCCEEDED', liveMode: false },
      secret: SECRET,
      created,
      count: 1,
      concurrency: 1,
      timeoutMs: 5000,
    });
    const [r] = receiver.received;
    expect(r!.headers['signature-input']).toContain(`created=${created}`);
    expect(verifyReceived(r!)).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('reports non-2xx replies and connection errors as failures', async () => {
    receiver.state.status = 401;
    const rejected = await sendTestEvents({
      url: receiver.url,
      source: { kind: 'file', payload: { a: 1 } },
      secret: SECRET,
      count: 2,
      concurrency: 2,
      timeoutMs: 5000,
    });
    receiver.state.status = 200;
    expect(rejected.map((r) => [r.ok, r.status])).toEqual([
      [false, 401],
      [false, 401],
    ]);
    const port = await closedPort();
    const refused = await sendTestEvents({
      url: `http://127.0.0.1:${port}/`,
      source: { kind: 'file', payload: {} },
      secret: null,
      count: 1,
      concurrency: 1,
      timeoutMs: 5000,
    });
    expect(refused[0]).toMatchObject({
      ok: false,
      status: null,
      error: `connection refused: http://127.0.0.1:${port}/`,
    });
  });
});

describe('npm run send-test-event (a real process)', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let dir: string;
  beforeAll(async () => {
    receiver = await startReceiver();
    dir = mkdtempSync(join(tmpdir(), 'send-test-event-'));
  });
  afterAll(async () => {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends one signed test event with the secret from the environment, prints status and reply', async () => {
    receiver.received.length = 0;
    const run = await runScript('scripts/send-test-event.ts', ['--url', receiver.url], { UP42_WEBHOOK_SECRET: SECRET });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe('200 {"stored":1}\n');
    expect(receiver.received).toHaveLength(1);
    // Strong by default: the date and the body digest are signed, so the forwarder's rule accepts it as it is.
    const received = receiver.received[0]!;
    expect(received.headers['signature-input']).toMatch(
      /^up42-sig=\("content-type" "date" "content-digest"\);created=\d+$/,
    );
    expect(verifyReceived(received)).toMatchObject({ ok: true, value: { digestChecked: true, weaknesses: [] } });
    expect(JSON.parse(received.body.toString())).toMatchObject({ liveMode: false, event: 'job.status' });
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  });

  it('with --count and --concurrency delivers N distinct ids and prints a summary', async () => {
    receiver.received.length = 0;
    const run = await runScript('scripts/send-test-event.ts', [
      '--url',
      receiver.url,
      '--secret',
      SECRET,
      '--count',
      '25',
      '--concurrency',
      '4',
      '--live',
      '--status',
      'FAILED',
    ]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(26);
    expect(lines[25]).toBe('25 deliveries: 25 ok, 0 failed');
    expect(new Set(receiver.received.map((r) => JSON.parse(r.body.toString()).messageId)).size).toBe(25);
    for (const r of receiver.received) expect(verifyReceived(r)).toMatchObject({ ok: true });
  });

  it('sends a --file payload with a fresh messageId', async () => {
    receiver.received.length = 0;
    const file = join(dir, 'payload.json');
    writeFileSync(
      file,
      JSON.stringify(
        { event: 'order.status', liveMode: true, messageId: 'mine', body: { status: 'FULFILLED', note: 'ü' } },
        null,
        2,
      ),
    );
    const run = await runScript('scripts/send-test-event.ts', [
      '--url',
      receiver.url,
      '--file',
      file,
      '--secret',
      SECRET,
    ]);
    expect(run.code).toBe(0);
    const sent = JSON.parse(receiver.received[0]!.body.toString('utf8'));
    expect(sent).toMatchObject({ event: 'order.status', body: { status: 'FULFILLED', note: 'ü' } });
    expect(sent.messageId).not.toBe('mine');
    expect(verifyReceived(receiver.received[0]!)).toMatchObject({ ok: true });
  });

  it('exits 1 with one line on a non-2xx reply, on a refused connection, and on an unreadable file', async () => {
    receiver.state.status = 503;
    const rejected = await runScript('scripts/send-test-event.ts', ['--url', receiver.url, '--unsigned']);
    receiver.state.status = 200;
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toMatch(/^503 \{"stored":\d+\}\n$/);
    const port = await closedPort();
    const refused = await runScript('scripts/send-test-event.ts', [
      '--url',
      `http://127.0.0.1:${port}/`,
      '--secret',
      SECRET,
    ]);
    expect(refused).toEqual({ code: 1, stdout: '', stderr: `connection refused: http://127.0.0.1:${port}/\n` });
    const missing = await runScript('scripts/send-test-event.ts', [
      '--url',
      receiver.url,
      '--secret',
      SECRET,
      '--file',
      join(dir, 'absent.json'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('ENOENT');
  });

  it('exits 1 with one line when the receiver does not answer in time', async () => {
    receiver.state.delayMs = 5000;
    const run = await runScript('scripts/send-test-event.ts', [
      '--url',
      receiver.url,
      '--secret',
      SECRET,
      '--timeout',
      '0.3',
    ]);
    receiver.state.delayMs = 0;
    expect(run).toEqual({ code: 1, stdout: '', stderr: `timeout talking to ${receiver.url}\n` });
  });

  it('--help says which headers the sender covers, and that this is an assumption', async () => {
    const run = await runScript('scripts/send-test-event.ts', ['--help']);
    expect(run.code).toBe(0);
    const help = run.stdout.replace(/\s+/g, ' ');
    expect(help).toContain('the sender covers content-type, date and content-digest, an assumption');
    expect(help).toContain('UP42_ACCEPT_WEAK_SIGNATURES');
  });

  it('exits 2 with usage on an unknown option', async () => {
    const run = await runScript('scripts/send-test-event.ts', ['--url', receiver.url, '--colour', 'blue']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^send-test-event: Unknown option '--colour'\n\nusage: npm run send-test-event/);
  });
});
