import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { buildDelivery, type Delivery } from '../../scripts/send-test-event/delivery.js';
import { waitFor } from '../support/wait-for.js';
import { buildWorkerForEntry, outbox, type OutboxView } from '../worker/support.js';
import { freePort, startNgrokEdge, type NgrokEdge } from './ngrok-edge.js';
import { envelopes, http, listeningOn, spawnEntry, spawnWorker, tempDir, type Proc } from './support.js';

/**
 * Nothing lost while the sink is away, on the path a real deployment has: the Worker (`npm run worker`'s entry
 * point, in workerd) reaches the sink through a stand-in for ngrok's edge, which answers `404` +
 * `ERR_NGROK_3200` while the sink (and so its tunnel) is down. Fifty signed live webhooks are kept, the Worker
 * and its workerd are killed with SIGKILL and started again on the same outbox folder, the sink is started, and
 * every webhook is stored exactly once.
 */

const SECRET = 'e2e-park-secret-TOPSECRET';
const AUTH = { user: 'relay', pass: 'e2e-park-pass-TOPSECRET' };
const COUNT = 50;

let work: { dir: string; remove: () => Promise<void> };
let edge: NgrokEdge;
let sinkPort: number;
const all: Proc[] = [];

function startWorkerProcess(): Proc {
  const env = {
    UP42_WEBHOOK_SECRET: SECRET,
    SINK_URL: edge.url,
    SINK_BASIC_AUTH_USER: AUTH.user,
    SINK_BASIC_AUTH_PASS: AUTH.pass,
    FORWARD_MAX_ATTEMPTS: '1',
    FORWARD_DEADLINE_MS: '3000',
    FORWARD_PARK_DELAYS: '1,1,2',
  };
  const proc = spawnWorker(env, join(work.dir, 'outbox'), work.dir);
  all.push(proc);
  return proc;
}

function startSink(): Proc {
  const env = {
    SINK_HOST: '127.0.0.1',
    SINK_PORT: String(sinkPort),
    SINK_DATA_DIR: join(work.dir, 'sink'),
    SINK_STORE: 'file',
    SINK_BASIC_AUTH_USER: AUTH.user,
    SINK_BASIC_AUTH_PASS: AUTH.pass,
  };
  const proc = spawnEntry('sink/main.ts', [], env, work.dir);
  all.push(proc);
  return proc;
}

beforeAll(async () => {
  work = await tempDir('e2e-park-');
  sinkPort = await freePort();
  [edge] = await Promise.all([startNgrokEdge({ sinkPort, auth: AUTH }), buildWorkerForEntry()]);
}, 60_000);

afterAll(async () => {
  await Promise.all(all.map((p) => p.stop()));
  await edge?.close();
  for (const p of all) expect(p.output()).not.toContain('TOPSECRET');
  await work?.remove();
}, 30_000);

/** The outbox once `done` holds of it: it works on its own alarm, and nothing announces it. */
const outboxWhen = (url: string, done: (view: OutboxView) => boolean, timeoutMs = 30_000) =>
  waitFor(
    async () => {
      const view = await outbox(url, AUTH);
      return done(view) ? view : undefined;
    },
    { what: 'the outbox', timeoutMs, intervalMs: 100 },
  );

describe('the sink away behind the tunnel', () => {
  it('50 webhooks kept while the sink is down survive SIGKILL and are each stored once when it is back', async () => {
    const { url } = await listeningOn(startWorkerProcess());
    const created = Math.floor(Date.now() / 1000);
    const deliveries: Delivery[] = Array.from({ length: COUNT }, () =>
      buildDelivery({
        source: { kind: 'event', event: 'job.status', status: 'FAILED', liveMode: true },
        secret: SECRET,
        created,
      }),
    );

    const answers = await Promise.all(
      deliveries.map((d) => http(`${url}/`, { method: 'POST', headers: d.headers, body: d.body })),
    );
    for (const answer of answers) expect(answer).toMatchObject({ status: 200, json: { outcome: 'kept' } });
    const away = await outboxWhen(url, (v) => v.sink.away && v.deliveries[0]!.attempts >= 1);
    expect(away).toMatchObject({ waiting: COUNT, delivered: 0, failed: 0 });
    expect(away.sink.cause).toMatch(/ERR_NGROK_3200/);
    expect(edge.offlineAnswers()).toBeGreaterThanOrEqual(1);

    // Killed without a chance to save anything, workerd with it: what was answered 200 is already kept.
    await all[0]!.stop('SIGKILL');

    const restarted = startWorkerProcess();
    const again = (await listeningOn(restarted)).url;
    expect((await outbox(again, AUTH)).waiting).toBe(COUNT);
    await listeningOn(startSink());

    await outboxWhen(again, (v) => v.waiting === 0 && v.delivered === COUNT, 60_000);
    const stored = await envelopes(`http://127.0.0.1:${sinkPort}`, AUTH);
    expect(stored.map((e) => e.key)).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
    // In the order the outbox kept them.
    const kept = away.deliveries.map((d) => d.messageId);
    expect(stored.map((e) => e.messageId)).toEqual(kept);
    expect(new Set(stored.map((e) => e.messageId))).toEqual(new Set(deliveries.map((d) => d.messageId)));
  }, 120_000);
});
