import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildDelivery, type Delivery, type PayloadSource } from '../../scripts/send-test-event/delivery.js';
import { postDelivery, sendTestEvents } from '../../scripts/send-test-event/send.js';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { waitFor } from '../support/wait-for.js';
import { buildWorkerForEntry, outbox, type OutboxView } from '../worker/support.js';
import { freePort, startNgrokEdge, type NgrokEdge } from './ngrok-edge.js';
import { dump, envelopes, http, listeningOn, spawnEntry, spawnWorker, tempDir, type Proc } from './support.js';

/**
 * The whole local chain as a user runs it, each part its own process on loopback: the sink (`npm start`'s
 * entry point, a temporary data directory, basic auth on) behind a stand-in for ngrok's edge (./ngrok-edge.ts),
 * the Worker (`npm run worker`'s entry point, in workerd) pointed at the edge, and UP42-style deliveries from the
 * test-event sender, through its functions and through its command line. Only public interfaces are used: the
 * Worker's HTTP answers and GET /outbox, the sink's /dump-webhooks. Every process runs in an empty temporary
 * folder with an environment holding only what is given here, so a developer's .env cannot change the outcome.
 */

const SECRET = 'e2e-webhook-secret-TOPSECRET';
const AUTH = { user: 'relay', pass: 'e2e-sink-pass-TOPSECRET' };

let work: { dir: string; remove: () => Promise<void> };
let dataDir: string;
let sink: Proc;
let sinkUrl: string;
let sinkPort: number;
let edge: NgrokEdge;
const workers: Record<'live' | 'testMode' | 'wrongAuth', { proc: Proc; url: string; pass: string }> = {} as never;
const all: Proc[] = [];

const sinkEnv = (port: number) => ({
  SINK_HOST: '127.0.0.1',
  SINK_PORT: String(port),
  SINK_DATA_DIR: dataDir,
  SINK_STORE: 'file',
  SINK_BASIC_AUTH_USER: AUTH.user,
  SINK_BASIC_AUTH_PASS: AUTH.pass,
});

async function startSinkProcess(port: number): Promise<void> {
  sink = spawnEntry('sink/main.ts', [], sinkEnv(port), work.dir);
  all.push(sink);
  ({ url: sinkUrl, port: sinkPort } = await listeningOn(sink));
}

async function startWorkerProcess(testMode: boolean, pass: string): Promise<{ proc: Proc; url: string; pass: string }> {
  const env = {
    UP42_WEBHOOK_SECRET: SECRET,
    UP42_TEST_MODE: testMode ? 'yes' : 'no',
    SINK_URL: edge.url,
    SINK_BASIC_AUTH_USER: AUTH.user,
    SINK_BASIC_AUTH_PASS: pass,
    // A sink that is down is tried again every second.
    FORWARD_MAX_ATTEMPTS: '2',
    FORWARD_DEADLINE_MS: '5000',
    FORWARD_PARK_DELAYS: '1',
  };
  const proc = spawnWorker(env, `${work.dir}/outbox-${all.length}`, work.dir);
  all.push(proc);
  return { proc, url: (await listeningOn(proc)).url, pass };
}

beforeAll(async () => {
  work = await tempDir('e2e-chain-');
  dataDir = `${work.dir}/data`;
  await startSinkProcess(await freePort());
  edge = await startNgrokEdge({ sinkPort, auth: AUTH });
  await buildWorkerForEntry();
  const [live, testMode, wrongAuth] = await Promise.all([
    startWorkerProcess(false, AUTH.pass),
    startWorkerProcess(true, AUTH.pass),
    startWorkerProcess(false, 'not-the-sink-password'),
  ]);
  Object.assign(workers, { live, testMode, wrongAuth });
}, 60_000);

afterAll(async () => {
  await Promise.all(all.map((p) => p.stop()));
  await edge?.close();
  // Nothing secret in what any process printed.
  for (const p of all) {
    expect(p.output()).not.toContain('TOPSECRET');
    expect(p.output().toLowerCase()).not.toContain('authorization');
  }
  await work?.remove();
}, 30_000);

const now = () => Math.floor(Date.now() / 1000);
const liveJob = (status: string): PayloadSource => ({ kind: 'event', event: 'job.status', status, liveMode: true });
const signed = (source: PayloadSource, overrides: { secret?: string; created?: number } = {}): Delivery =>
  buildDelivery({ source, secret: overrides.secret ?? SECRET, created: overrides.created ?? now() });

/** POSTs a delivery as is (any headers, any body) to a Worker; its status and JSON answer. */
async function send(worker: { url: string }, delivery: Delivery) {
  const reply = await http(`${worker.url}/`, { method: 'POST', headers: delivery.headers, body: delivery.body });
  return {
    status: reply.status,
    answer: (reply.json ?? {}) as { outcome?: string; reason?: string; messageId?: string },
  };
}

/** The Worker's outbox once `done` holds of it (it delivers on its own; nothing announces it). */
const outboxWhen = (worker: { url: string; pass: string }, done: (view: OutboxView) => boolean) =>
  waitFor(
    async () => {
      const view = await outbox(worker.url, { user: AUTH.user, pass: worker.pass });
      return done(view) ? view : undefined;
    },
    { what: 'the outbox', timeoutMs: 30_000, intervalMs: 100 },
  );

/** The dump once it holds `count` webhooks. */
const storedCount = (count: number, query = '') =>
  waitFor(
    async () => {
      const d = await dump(sinkUrl, AUTH, query);
      return d.count === count ? d : undefined;
    },
    { what: `${count} stored webhooks`, timeoutMs: 30_000, intervalMs: 100 },
  );

async function clearStore(): Promise<void> {
  const reply = await http(`${sinkUrl}/dump-webhooks`, { method: 'DELETE', auth: AUTH });
  expect(reply.status).toBe(200);
  expect((await dump(sinkUrl, AUTH)).count).toBe(0);
}

describe('the local chain: sender → Worker → sink', () => {
  it('stores a signed live job.status FAILED under key 1, its body byte for byte as sent', async () => {
    await clearStore();
    const delivery = signed(liveJob('FAILED'));
    const { status, answer } = await send(workers.live, delivery);
    expect(status).toBe(200);
    expect(answer).toMatchObject({ outcome: 'kept', messageId: delivery.messageId });
    const { lines } = await storedCount(1);
    expect(lines).toEqual([delivery.body]);
    const [stored] = await envelopes(sinkUrl, AUTH);
    expect(stored).toMatchObject({
      key: 1,
      messageId: delivery.messageId,
      event: 'job.status',
      status: 'FAILED',
      liveMode: true,
    });
  });

  it('ignores a test event unless test mode is on, and stores it when it is', async () => {
    await clearStore();
    const delivery = signed({ kind: 'event', event: 'job.status', status: 'SUCCEEDED', liveMode: false });
    const off = await send(workers.live, delivery);
    expect(off.status).toBe(202);
    expect(off.answer.outcome).toBe('ignored');
    expect(off.answer.reason).toContain('test event');

    const on = await send(workers.testMode, delivery);
    expect(on.status).toBe(200);
    expect((await storedCount(1, '?liveMode=false')).lines).toEqual([delivery.body]);
    expect((await dump(sinkUrl, AUTH)).count).toBe(1);
  });

  it('stores a FAILED_PERMANENTLY order sent by the send-test-event command, not a RUNNING job', async () => {
    await clearStore();
    const cli = spawnEntry(
      'scripts/send-test-event.ts',
      ['--url', workers.live.url, '--live', '--event', 'order.status', '--status', 'FAILED_PERMANENTLY'],
      { UP42_WEBHOOK_SECRET: SECRET },
      work.dir,
    );
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toMatch(/^200 \{"outcome":"kept","seq":\d+,"waiting":\d+,"event":"order.status"/m);

    const running = await send(workers.live, signed(liveJob('RUNNING')));
    expect(running.status).toBe(202);
    expect(running.answer.reason).toContain('RUNNING is not in the notify list');

    await storedCount(1);
    const stored = await envelopes(sinkUrl, AUTH);
    expect(stored.map((e) => [e.key, e.event, e.status, e.liveMode])).toEqual([
      [1, 'order.status', 'FAILED_PERMANENTLY', true],
    ]);
  }, 30_000);

  it('rejects a tampered body or header, a wrong secret and a stale signature with 401, keeping nothing', async () => {
    await clearStore();
    const before = await outbox(workers.live.url, AUTH);
    const original = signed(liveJob('FAILED'));
    const tamperedBody = { ...original, body: original.body.replace('"FAILED"', '"CANCELLED"') };
    expect(tamperedBody.body).not.toBe(original.body);
    const tamperedHeader = {
      ...original,
      headers: { ...original.headers, date: new Date(Date.now() + 1000).toUTCString() },
    };
    expect(tamperedHeader.headers.date).not.toBe(original.headers.date);
    const cases: [string, Delivery, string][] = [
      ['tampered body', tamperedBody, 'digest-mismatch'],
      ['tampered header', tamperedHeader, 'mac-mismatch'],
      ['wrong secret', signed(liveJob('FAILED'), { secret: 'not-the-webhook-secret' }), 'mac-mismatch'],
      ['stale created', signed(liveJob('FAILED'), { created: now() - 301 - 10 }), 'stale'],
    ];
    for (const [what, delivery, reason] of cases) {
      const { status, answer } = await send(workers.live, delivery);
      expect({ what, status, outcome: answer.outcome, reason: answer.reason }).toEqual({
        what,
        status: 401,
        outcome: 'rejected',
        reason,
      });
    }
    const after = await outbox(workers.live.url, AUTH);
    expect([after.waiting, after.delivered, after.failed]).toEqual([0, before.delivered, before.failed]);
    expect((await dump(sinkUrl, AUTH)).count).toBe(0);
  });

  it('keeps a delivery while the sink is stopped (edge: ERR_NGROK_3200), stores it once back', async () => {
    await clearStore();
    const before = signed(liveJob('ERROR'));
    expect((await send(workers.live, before)).status).toBe(200);
    await storedCount(1);

    expect(await sink.stop('SIGTERM')).toBe(0);
    const delivery = signed(liveJob('FAILED'));
    const down = await send(workers.live, delivery);
    expect(down).toMatchObject({ status: 200, answer: { outcome: 'kept' } });
    const away = await outboxWhen(workers.live, (v) => v.sink.away && v.deliveries[0]!.attempts >= 1);
    expect(away.sink.cause).toMatch(/ERR_NGROK_3200/);
    expect(away.deliveries.map((d) => d.messageId)).toEqual([delivery.messageId]);

    // The same port and data directory, as a user restarting `npm start` would have.
    const port = sinkPort;
    await startSinkProcess(port);
    expect(sinkPort).toBe(port);
    expect((await storedCount(2)).lines).toEqual([before.body, delivery.body]);
    expect((await outboxWhen(workers.live, (v) => v.waiting === 0)).sink.away).toBe(false);
  }, 60_000);

  it('accepts a signed body formatted unlike JSON.stringify from the bytes sent, and stores those bytes', async () => {
    await clearStore();
    const messageId = `formatted-${Date.now()}`;
    const body =
      `{"event": "job.status", "messageId": "${messageId}", "liveMode": true, ` +
      `"version": 1.0, "body": {"status": "FAILED"}}`;
    expect(body).not.toBe(JSON.stringify(JSON.parse(body)));
    const headers = signedDeliveryHeaders({ body, secret: SECRET, created: now() });
    expect(headers['content-digest']).toBeDefined();
    const { status } = await send(workers.live, { messageId, body, headers });
    expect(status).toBe(200);
    expect((await storedCount(1)).lines).toEqual([body]);
  });

  it('stores the same delivery sent twice once', async () => {
    await clearStore();
    const delivered = (await outbox(workers.live.url, AUTH)).delivered;
    const delivery = signed(liveJob('CANCELLED'));
    expect((await send(workers.live, delivery)).status).toBe(200);
    // The second is answered 200 too, as a duplicate the outbox does not keep again.
    const again = await send(workers.live, delivery);
    expect([again.status, again.answer]).toEqual([200, expect.objectContaining({ duplicate: true })]);
    await outboxWhen(workers.live, (v) => v.delivered === delivered + 1);
    expect((await dump(sinkUrl, AUTH)).lines).toEqual([delivery.body]);
  });

  it('gives 200 deliveries sent 20 at a time the keys 1..200 exactly, one per delivery', async () => {
    await clearStore();
    const results = await sendTestEvents({
      url: `${workers.live.url}/`,
      source: liveJob('FAILED'),
      secret: SECRET,
      count: 200,
      concurrency: 20,
      timeoutMs: 20_000,
    });
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    await storedCount(200);
    const stored = await envelopes(sinkUrl, AUTH);
    expect(stored.map((e) => e.key)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(new Set(stored.map((e) => e.messageId))).toEqual(new Set(results.map((r) => r.messageId)));
  }, 60_000);

  it('keeps a delivery waiting, naming the 401, while the Worker has the wrong sink credentials', async () => {
    await clearStore();
    const delivery = signed(liveJob('FAILED'));
    expect((await send(workers.wrongAuth, delivery)).status).toBe(200);
    // A refusal of the ping concerns the sink's settings, not this delivery: it waits until they are fixed.
    const view = await outboxWhen(workers.wrongAuth, (v) => v.deliveries[0]?.attempts === 1);
    expect(view).toMatchObject({ waiting: 1, failed: 0, delivered: 0 });
    expect(view.deliveries[0]!.cause).toMatch(/401.*check SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS/);
    expect((await dump(sinkUrl, AUTH)).count).toBe(0);
    // The same delivery through a correctly configured Worker goes through.
    expect((await postDelivery(`${workers.live.url}/`, delivery, 0, 10_000)).status).toBe(200);
    expect((await storedCount(1)).lines).toEqual([delivery.body]);
  });
});
