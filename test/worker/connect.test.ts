import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseValidateConfig } from '../../shared/config.js';
import { startFakeUp42, type FakeUp42 } from '../scripts/support/fake-up42.js';
import { runScript } from '../scripts/support/run-cli.js';
import { startTestSink, type TestSink } from '../sink/sink-support.js';
import { AUTH, startWorker, workerFixture, type RunningWorker } from './support.js';

/*
 * npm run up42 -- connect / doctor through the Worker in workerd: the fake UP42 API delivers its signed test
 * events to the Worker, which verifies them and reports at GET /check; a real sink with the same secret behind
 * it. (Direct mode, UP42 to the sink itself: test/scripts/connect.test.ts.)
 */

const SECRET = 'connect-worker-secret-0123456789';
const w = workerFixture('worker-connect-', SECRET);
let fake: FakeUp42;
let sink: TestSink;
let workDir: string;

beforeAll(async () => {
  fake = await startFakeUp42();
  const up42 = parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET });
  if (!up42.ok) throw new Error(up42.message);
  sink = await startTestSink({ store: 'memory', auth: AUTH, up42: up42.value });
});
afterAll(async () => {
  await sink?.close();
  await fake?.close();
});
beforeEach(async () => {
  fake.reset();
  fake.deliverTests = true;
  workDir = await mkdtemp(join(tmpdir(), 'connect-worker-'));
  await writeFile(join(workDir, '.env'), `UP42_WEBHOOK_SECRET=${SECRET}\nSINK_URL=${sink.url}\n`);
});
afterEach(() => rm(workDir, { recursive: true, force: true }));

const up42 = (args: string[]) =>
  runScript(
    'scripts/up42.ts',
    [...args, '--wait', '10'],
    {
      UP42_USERNAME: fake.username,
      UP42_PASSWORD: fake.password,
      UP42_AUTH_URL: fake.url,
      UP42_API_URL: fake.url,
      SINK_BASIC_AUTH_USER: AUTH.user,
      SINK_BASIC_AUTH_PASS: AUTH.pass,
    },
    60_000,
    workDir,
  );
const webhookWrites = () => fake.requests.filter((r) => /\/webhooks(\/[^/]+)?$/.test(r.path) && r.method !== 'GET');

describe('connect --url WORKER', () => {
  it('creates the webhook, and the Worker verifies the test event; a second connect changes nothing', async () => {
    const worker: RunningWorker = await w.started(startWorker(w.scriptPath, w.settings(sink.url)));
    const first = await up42(['connect', '--url', worker.url]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout.trimEnd().split('\n')).toEqual([
      'secret: UP42_WEBHOOK_SECRET is set',
      `UP42: created webhook wh-1 for ${worker.url}`,
      `UP42 sent its test events: 2 of 2 answered 2xx by ${worker.url}`,
      expect.stringMatching(
        /^the Worker verified (job|order)\.status \w+ \(test event\): signed content-type, date, content-digest; sha-256 content-digest matched the raw body, then ignored it as configured \(a test event/,
      ),
      `sink: answered PONG at ${sink.url}/ping`,
    ]);
    expect([...fake.webhooks.values()]).toEqual([
      expect.objectContaining({
        url: worker.url,
        events: ['job.status', 'order.status'],
        active: true,
        secret: SECRET,
      }),
    ]);
    const writes = webhookWrites().length;
    const second = await up42(['connect', '--url', worker.url]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`UP42: webhook wh-1 for ${worker.url} is as wanted`);
    expect(webhookWrites()).toHaveLength(writes);
    const doctor = await up42(['doctor', '--url', worker.url]);
    expect(doctor.code).toBe(0);
    expect(webhookWrites()).toHaveLength(writes);
    expect(first.stdout + second.stdout + doctor.stdout).not.toContain(SECRET);
    await w.stop(worker);
  });

  it('in test mode the test event goes through to the sink, which verifies it again', async () => {
    const worker = await w.started(startWorker(w.scriptPath, w.settings(sink.url, { UP42_TEST_MODE: 'yes' })));
    const before = sink.store.count;
    const run = await up42(['connect', '--url', worker.url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^the Worker verified .* \(test event\): signed .*, then took it$/m);
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 20_000;
      const poll = () => {
        if (sink.store.count >= before + 2) resolve();
        else if (Date.now() > deadline) reject(new Error('the test events did not reach the sink'));
        else setTimeout(poll, 50);
      };
      poll();
    });
    const stored = [];
    for await (const record of sink.store.records({ since: before })) stored.push(record);
    expect(stored.map((r) => [r.liveMode, r.verified, r.signed])).toEqual([
      [false, true, ['content-type', 'date', 'content-digest']],
      [false, true, ['content-type', 'date', 'content-digest']],
    ]);
    await w.stop(worker);
  });

  it('names the failing hop and its fix: the Worker has another secret than UP42', async () => {
    const worker = await w.started(
      startWorker(w.scriptPath, { ...w.settings(sink.url), UP42_WEBHOOK_SECRET: 'not-what-UP42-has-9876' }),
    );
    const run = await up42(['connect', '--url', worker.url]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^FAILED the Worker refused \S+ \w+ \(test event\): mac-mismatch \(signed content-type, date, content-digest; no body digest checked\); fix: the Worker has another secret than UP42's webhook: npx wrangler secret put UP42_WEBHOOK_SECRET/m,
    );
    expect(run.stdout).not.toContain('not-what-UP42-has');
    await w.stop(worker);
  });
});
