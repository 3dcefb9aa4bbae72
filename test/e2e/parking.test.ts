import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { buildDelivery, type Delivery } from '../../scripts/send-test-event/delivery.js';
import { freePort, startNgrokEdge, type NgrokEdge } from './ngrok-edge.js';
import { envelopes, http, listeningOn, spawnEntry, tempDir, type Proc } from './support.js';

/**
 * Nothing lost while the sink is away, on the path a real deployment has: the runner (`npm run forwarder`'s
 * entry point) reaches the sink through a stand-in for ngrok's edge, which answers `404` +
 * `ERR_NGROK_3200` while the sink (and so its tunnel) is down. Fifty signed live webhooks are parked, the runner
 * is killed with SIGKILL and started again, the sink is started, and every webhook is stored exactly once.
 */

const SECRET = 'e2e-park-secret-TOPSECRET';
const AUTH = { user: 'relay', pass: 'e2e-park-pass-TOPSECRET' };
const COUNT = 50;

let work: { dir: string; remove: () => Promise<void> };
let edge: NgrokEdge;
let sinkPort: number;
const all: Proc[] = [];

function startRunner(): Proc {
  const proc = spawnEntry(
    'forwarder/runner/main.ts',
    [],
    {
      FORWARDER_HOST: '127.0.0.1',
      FORWARDER_PORT: '0',
      FORWARDER_DATA_DIR: join(work.dir, 'parked'),
      UP42_WEBHOOK_SECRET: SECRET,
      SINK_URL: edge.url,
      SINK_BASIC_AUTH_USER: AUTH.user,
      SINK_BASIC_AUTH_PASS: AUTH.pass,
      FORWARD_MAX_ATTEMPTS: '1',
      FORWARD_DEADLINE_MS: '3000',
      FORWARD_PARK_DELAYS: '1,1,2',
    },
    work.dir,
  );
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
  edge = await startNgrokEdge({ sinkPort, auth: AUTH });
});

afterAll(async () => {
  await Promise.all(all.map((p) => p.stop()));
  await edge?.close();
  for (const p of all) expect(p.output()).not.toContain('TOPSECRET');
  await work?.remove();
}, 30_000);

/** Resolves once `count` lines of the process's output contain `text`; rejects after `timeoutMs`. */
function countLines(proc: Proc, text: string, count: number, timeoutMs = 20_000): Promise<void> {
  return new Promise((done, failed) => {
    let seen = 0;
    let partial = '';
    const timer = setTimeout(
      () => failed(new Error(`${seen} of ${count} lines with ${text} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    proc.child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      seen += lines.filter((line) => line.includes(text)).length;
      if (seen >= count) {
        clearTimeout(timer);
        done();
      }
    });
  });
}

describe('the sink away behind the tunnel', () => {
  it('50 webhooks parked while the sink is down survive SIGKILL and are each stored once when it is back', async () => {
    const runner = startRunner();
    const { url } = await listeningOn(runner);
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
    for (const answer of answers) {
      expect(answer.status).toBe(202);
      expect(answer.json).toMatchObject({
        outcome: 'parked',
        summary: 'sink away (ERR_NGROK_3200): parked, next try in 1 s, 1 of 3',
      });
      expect(Date.parse(String((answer.json as { nextTryAt: string }).nextTryAt))).toBeGreaterThan(Date.now() - 5_000);
    }
    expect(edge.offlineAnswers()).toBeGreaterThanOrEqual(COUNT);

    // Killed without a chance to save anything: what was answered 202 is already on disk.
    await runner.stop('SIGKILL');
    expect((await readdir(join(work.dir, 'parked'))).filter((n) => n.endsWith('.json'))).toHaveLength(COUNT);

    const restarted = startRunner();
    const delivered = countLines(restarted, '"outcome":"forwarded"', COUNT);
    const sink = startSink();
    const [again] = await Promise.all([listeningOn(restarted), listeningOn(sink)]);
    const sinkUrl = `http://127.0.0.1:${sinkPort}`;

    // The restarted runner logs each resumed run once it is done with it (its parked file already removed).
    await delivered;
    const stored = await envelopes(sinkUrl, AUTH);
    expect(stored.map((e) => e.key)).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
    expect(new Set(stored.map((e) => e.messageId))).toEqual(new Set(deliveries.map((d) => d.messageId)));
    expect(((await http(`${again.url}/parked`)).json as { parked: unknown[] }).parked).toEqual([]);
    expect((await readdir(join(work.dir, 'parked'))).filter((n) => n.endsWith('.json'))).toEqual([]);
  }, 60_000);
});
