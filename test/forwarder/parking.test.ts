import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRunner } from '../../forwarder/runner/server.js';
import type { RunResult } from '../../forwarder/runner/workflow.js';
import { deliver, event } from './deliveries.js';
import { startStubSink, type StubSink } from './stub-sink.js';

// The local runner's $.flow.rerun: a parked run is on disk when the 202 goes out, runs again after its delay
// with $.context.run, is rewritten when it parks again, and is removed once it has run on; a runner started on
// a folder holding parked runs resumes them.

const SECRET = 'parking-secret-TOPSECRET';
const USER = 'relay';
const PASS = 'parking-pass-TOPSECRET';

let sink: StubSink;
let dataDir: string;
beforeEach(async () => {
  sink = await startStubSink({ user: USER, pass: PASS });
  dataDir = await mkdtemp(join(tmpdir(), 'runner-parked-'));
});
afterEach(async () => {
  await sink.close();
  await rm(dataDir, { recursive: true, force: true });
});

const env = () => ({
  UP42_WEBHOOK_SECRET: SECRET,
  SINK_URL: sink.url,
  SINK_BASIC_AUTH_USER: USER,
  SINK_BASIC_AUTH_PASS: PASS,
  FORWARD_MAX_ATTEMPTS: '1',
  FORWARD_PARK_DELAYS: '1,1',
});

const files = async () => (await readdir(dataDir)).filter((n) => n.endsWith('.json'));

/** A runner whose run results arrive through `next()`, in order. */
async function runnerWithRuns() {
  const results: RunResult[] = [];
  const waiting: ((r: RunResult) => void)[] = [];
  const runner = await startRunner({ host: '127.0.0.1', port: 0, dataDir }, env(), {
    log: () => {},
    onRun: (result) => {
      const waiter = waiting.shift();
      if (waiter) waiter(result);
      else results.push(result);
    },
  });
  const next = () =>
    new Promise<RunResult>((resolve) => (results.length > 0 ? resolve(results.shift()!) : waiting.push(resolve)));
  return { runner, next };
}

describe('the runner parks a delivery while the sink is away', () => {
  it('keeps it on disk before the 202, reruns it with $.context.run, and removes it once delivered', async () => {
    const offline = { status: 404, body: 'offline', headers: { 'ngrok-error-code': 'ERR_NGROK_3200' } };
    sink.plan.ping.push(offline, offline);
    const { runner, next } = await runnerWithRuns();
    try {
      const payload = event();
      const answer = await deliver(runner.url, payload, { secret: SECRET });
      expect(answer.status).toBe(202);
      expect(answer.json).toMatchObject({
        outcome: 'parked',
        summary: 'sink away (ERR_NGROK_3200): parked, next try in 1 s, 1 of 2',
      });
      expect(await next()).toMatchObject({ outcome: 'parked' });
      const [file] = await files();
      const kept = JSON.parse(await readFile(join(dataDir, file!), 'utf8')) as Record<string, unknown>;
      expect(kept).toMatchObject({
        step: 'forward',
        index: 1,
        run: { runs: 2, context: { firstTryAt: expect.any(Number) } },
        maxRetries: 2,
      });
      // The trigger as received, raw body included: the rerun sends exactly these bytes.
      expect(
        Buffer.from((kept.trigger as { raw_event: { body_b64: string } }).raw_event.body_b64, 'base64').toString(),
      ).toBe(JSON.stringify(payload));

      // Run 2: still offline, parked again (the same file, rewritten).
      const second = await next();
      expect(second).toMatchObject({ outcome: 'parked' });
      expect(second.steps.forward).toMatchObject({
        $summary: 'sink away (ERR_NGROK_3200): parked, next try in 1 s, 2 of 2',
      });
      expect(await files()).toEqual([file]);
      // validate ran once: a rerun starts at the parked step, with the earlier steps' exports.
      expect(second.steps.validate).toMatchObject({ messageId: payload.messageId });

      // Run 3: the sink is back.
      const third = await next();
      expect(third).toMatchObject({ outcome: 'forwarded', steps: { forward: { $summary: 'stored as key 1' } } });
      expect(sink.stored.get(payload.messageId)).toBe(1);
      expect(await files()).toEqual([]);
      expect(((await (await fetch(`${runner.url}/parked`)).json()) as { parked: unknown[] }).parked).toEqual([]);
    } finally {
      await runner.close();
    }
  });

  it('gives up after the last delay: the run fails, naming how long it tried, and its file is removed', async () => {
    sink.plan.ping.push(...Array.from({ length: 3 }, () => ({ status: 503, body: 'down' })));
    const { runner, next } = await runnerWithRuns();
    try {
      expect((await deliver(runner.url, event(), { secret: SECRET })).status).toBe(202);
      await next();
      await next();
      const last = await next();
      expect(last).toMatchObject({ outcome: 'sink-failed', reason: 'server-error' });
      expect(last.message).toMatch(/^the sink was away for \d+ s over 3 runs; last: /);
      expect(await files()).toEqual([]);
    } finally {
      await runner.close();
    }
  });

  it('a runner stopped with parked runs resumes them when started again', async () => {
    sink.plan.ping.push({ status: 503, body: 'down' });
    const first = await runnerWithRuns();
    const payload = event();
    expect((await deliver(first.runner.url, payload, { secret: SECRET })).status).toBe(202);
    await first.next();
    await first.runner.close();
    expect(await files()).toHaveLength(1);

    const second = await runnerWithRuns();
    try {
      const listed = (await (await fetch(`${second.runner.url}/parked`)).json()) as {
        parked: Record<string, unknown>[];
      };
      expect(listed.parked).toEqual([
        expect.objectContaining({ messageId: payload.messageId, step: 'forward', runs: 1 }),
      ]);
      expect(await second.next()).toMatchObject({ outcome: 'forwarded' });
      expect(sink.stored.has(payload.messageId)).toBe(true);
      expect(await files()).toEqual([]);
    } finally {
      await second.runner.close();
    }
  });
});
