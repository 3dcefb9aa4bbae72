import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliver, event } from '../forwarder/deliveries.js';
import { closedPort } from '../forwarder/stub-sink.js';
import { SECRET } from '../forwarder/validation-table.js';
import { envelopes } from '../e2e/support.js';
import { spawnSink, type SpawnedSink } from '../sink/sink-support.js';
import { buildWorkerOnce, outbox, startWorker, until, type RunningWorker } from './support.js';

// The sink (a real `sink/main.ts` process) started with FORWARDER_URL set tells the Worker it is back, and
// the outbox's backlog reaches it within 10 s, under the default FORWARD_PARK_DELAYS (whose first wait alone
// is 60 s). A Worker it cannot reach is one warning line, and the sink runs on.

const AUTH = { user: 'relay-user', pass: 'sink-pass-Hn4v-TOPSECRET' };
const BACKLOG = 200;

let built: Awaited<ReturnType<typeof buildWorkerOnce>>;
let dataDir: string;
let worker: RunningWorker | undefined;
let sink: SpawnedSink | undefined;

beforeAll(async () => {
  built = await buildWorkerOnce();
  dataDir = await mkdtemp(join(tmpdir(), 'worker-wake-'));
});

afterAll(async () => {
  await sink?.stop();
  await worker?.close();
  await built?.cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

describe('a sink started with FORWARDER_URL', () => {
  it("receives the Worker's whole backlog within 10 s, under the default park delays", async () => {
    const port = await closedPort();
    worker = await startWorker(built.scriptPath, {
      UP42_WEBHOOK_SECRET: SECRET,
      SINK_URL: `http://127.0.0.1:${port}`,
      SINK_BASIC_AUTH_USER: AUTH.user,
      SINK_BASIC_AUTH_PASS: AUTH.pass,
      FORWARD_MAX_ATTEMPTS: '1',
      FORWARD_DEADLINE_MS: '2000',
    });
    const sent: string[] = [];
    for (let i = 0; i < BACKLOG; i++) {
      const payload = event();
      expect((await deliver(worker.url, payload, { secret: SECRET })).status).toBe(200);
      sent.push(payload.messageId);
    }
    const parked = await until('the outbox to find the sink away', async () => {
      const view = await outbox(worker!.url, AUTH);
      return view.sink.away ? view : undefined;
    });
    // The next try is a minute away or more: only the wake can bring the backlog in within 10 s.
    expect(Date.parse(parked.sink.nextTryAt!) - Date.now()).toBeGreaterThan(50_000);

    sink = await spawnSink({
      SINK_PORT: String(port),
      SINK_STORE: 'memory',
      SINK_BASIC_AUTH_USER: AUTH.user,
      SINK_BASIC_AUTH_PASS: AUTH.pass,
      FORWARDER_URL: worker.url,
    });
    await until(
      'the whole backlog in the sink',
      async () => (await envelopes(sink!.url, AUTH)).length === BACKLOG,
      10_000,
    );
    expect((await envelopes(sink.url, AUTH)).map((e) => e.messageId)).toEqual(sent);
    expect(sink.stderr()).not.toContain('warning');
    expect(sink.stderr() + sink.stdout()).not.toContain(AUTH.pass);
  }, 60_000);

  it('warns, without the password, when the Worker cannot be reached, and keeps running', async () => {
    await sink?.stop();
    const unreachable = `http://127.0.0.1:${await closedPort()}`;
    sink = await spawnSink({
      SINK_STORE: 'memory',
      SINK_BASIC_AUTH_USER: AUTH.user,
      SINK_BASIC_AUTH_PASS: AUTH.pass,
      FORWARDER_URL: unreachable,
    });
    await until('the warning', async () => sink!.stderr().includes('warning'));
    expect(sink.stderr()).toMatch(new RegExp(`could not reach ${unreachable}/wake`));
    expect(sink.stderr()).not.toContain(AUTH.pass);
    expect((await fetch(`${sink.url}/ping`)).status).toBe(200);
  }, 30_000);
});
