import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseValidateConfig } from '../../shared/config.js';
import { startTestSink, type TestSink } from '../sink/sink-support.js';
import { startFakeUp42, type FakeUp42 } from './support/fake-up42.js';
import { runScript } from './support/run-cli.js';

/*
 * npm run up42 -- connect / doctor as real processes, against the fake UP42 API (which signs and delivers its test
 * events to the webhook's URL as UP42 does) and a real sink, in direct mode: UP42 delivers to the sink itself.
 * (The same through the Worker in workerd: test/worker/connect.test.ts.)
 */

const USER = 'relay';
const PASS = 'sink-pass-Jr4c-TOPSECRET';
let fake: FakeUp42;
let workDir: string;
let sink: TestSink | null = null;

beforeAll(async () => {
  fake = await startFakeUp42();
});
afterAll(() => fake.close());
beforeEach(async () => {
  fake.reset();
  fake.deliverTests = true;
  workDir = await mkdtemp(join(tmpdir(), 'connect-'));
});
afterEach(async () => {
  await sink?.close();
  sink = null;
  await rm(workDir, { recursive: true, force: true });
});

const env = () => ({
  UP42_USERNAME: fake.username,
  UP42_PASSWORD: fake.password,
  UP42_AUTH_URL: fake.url,
  UP42_API_URL: fake.url,
  SINK_BASIC_AUTH_USER: USER,
  SINK_BASIC_AUTH_PASS: PASS,
});
const up42 = (args: string[]) => runScript('scripts/up42.ts', [...args, '--wait', '5'], env(), 40_000, workDir);

async function sinkWith(secret: string | null): Promise<TestSink> {
  const up42Config = secret === null ? null : parseValidateConfig({ UP42_WEBHOOK_SECRET: secret });
  if (up42Config !== null && !up42Config.ok) throw new Error(up42Config.message);
  await sink?.close();
  sink = await startTestSink({ store: 'memory', auth: { user: USER, pass: PASS }, up42: up42Config?.value ?? null });
  return sink;
}

const secretIn = async (dir: string) =>
  /^UP42_WEBHOOK_SECRET=(.*)$/m.exec(await readFile(join(dir, '.env'), 'utf8'))?.[1];
const webhookWrites = () => fake.requests.filter((r) => /\/webhooks(\/[^/]+)?$/.test(r.path) && r.method !== 'GET');

describe('connect --direct: from UP42 credentials to a verified chain', () => {
  it('makes a secret, the webhook and the test; once the sink has the secret, every hop passes', async () => {
    await writeFile(join(workDir, '.env'), '# mine\nUP42_WEBHOOK_SECRET=\nSINK_STORE=memory\n');
    let running = await sinkWith(null);
    const first = await up42(['connect', '--url', running.url, '--direct']);
    expect(first.code).toBe(1);
    const secret = await secretIn(workDir);
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(await readFile(join(workDir, '.env'), 'utf8')).toBe(
      `# mine\nUP42_WEBHOOK_SECRET=${secret}\nSINK_STORE=memory\n`,
    );
    const lines = first.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `secret: generated a new UP42_WEBHOOK_SECRET and wrote it to ${join(workDir, '.env')}; put it on the sink: ` +
        'restart the sink (npm start reads UP42_WEBHOOK_SECRET from .env)',
    );
    expect(lines[1]).toBe(`UP42: created webhook wh-1 for ${running.url}/receive-webhooks`);
    expect(lines).toContain(
      'FAILED the sink checks no signature: UP42_WEBHOOK_SECRET is not set on it; fix: restart the sink ' +
        '(npm start reads UP42_WEBHOOK_SECRET from .env)',
    );
    expect(lines.at(-1)).toBe(`sink: answered PONG at ${running.url}/ping`);
    expect([...fake.webhooks.values()]).toEqual([
      expect.objectContaining({
        url: `${running.url}/receive-webhooks`,
        events: ['job.status', 'order.status'],
        active: true,
        secret,
      }),
    ]);
    expect(first.stdout + first.stderr).not.toContain(secret!);

    // The sink restarted with the secret: the same command now passes, and changes nothing at UP42.
    running = await sinkWith(secret!);
    const port = new URL(running.url).port;
    // The sink came back on another port: the webhook's URL follows it (updated, not duplicated).
    const second = await up42(['connect', '--url', running.url, '--direct']);
    expect(second.stdout).toContain(`UP42: created webhook wh-2 for http://127.0.0.1:${port}/receive-webhooks`);
    expect(second.code).toBe(0);
    const writes = webhookWrites().length;
    const third = await up42(['connect', '--url', running.url, '--direct']);
    expect(third.code).toBe(0);
    expect(webhookWrites()).toHaveLength(writes);
    const hops = third.stdout.trimEnd().split('\n');
    expect(hops).toEqual([
      'secret: UP42_WEBHOOK_SECRET is set',
      `UP42: webhook wh-2 for ${running.url}/receive-webhooks is as wanted`,
      `UP42 sent its test events: 2 of 2 answered 2xx by ${running.url}/receive-webhooks`,
      expect.stringMatching(
        /^the sink verified (job|order)\.status \w+ \(test event\): signed content-type, date, content-digest; sha-256 content-digest matched the raw body, then ignored it as configured \(a test event/,
      ),
      `sink: answered PONG at ${running.url}/ping`,
    ]);
    // Test events are verified, reported and not stored.
    expect(running.store.count).toBe(0);

    const doctor = await up42(['doctor', '--url', running.url, '--direct']);
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toContain(`UP42: webhook wh-2 for ${running.url}/receive-webhooks: active`);
    expect(webhookWrites()).toHaveLength(writes);
  });

  it('names the hop that fails and its fix: another secret on the sink than on UP42', async () => {
    await writeFile(join(workDir, '.env'), 'UP42_WEBHOOK_SECRET=the-secret-UP42-has-0123456789\n');
    const running = await sinkWith('a-secret-the-sink-has-98765');
    const run = await up42(['connect', '--url', running.url, '--direct']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^FAILED the sink refused (job|order)\.status \w+ \(test event\): mac-mismatch \(signed content-type, date, content-digest; no body digest checked\); fix: the sink has another secret than UP42's webhook/m,
    );
    expect(run.stdout + run.stderr).not.toContain('the-secret-UP42-has');
  });

  it('reports what UP42 covered: a digest without a date is verified, and says there is no signed date', async () => {
    fake.signedComponents = ['content-type', 'content-digest'];
    await writeFile(join(workDir, '.env'), 'UP42_WEBHOOK_SECRET=digest-only-secret-0123456789\n');
    const running = await sinkWith('digest-only-secret-0123456789');
    const run = await up42(['connect', '--url', running.url, '--direct']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /the sink verified \S+ \w+ \(test event\): signed content-type, content-digest; sha-256 content-digest matched the raw body; no signed date/,
    );
  });

  it('doctor changes nothing and fails on a URL UP42 has no webhook for', async () => {
    await writeFile(join(workDir, '.env'), 'UP42_WEBHOOK_SECRET=doctor-secret-0123456789\n');
    const running = await sinkWith('doctor-secret-0123456789');
    const run = await up42(['doctor', '--url', running.url, '--direct']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`FAILED UP42: no webhook for ${running.url}/receive-webhooks; fix: run connect`);
    expect(webhookWrites()).toEqual([]);
    expect(fake.testDeliveries).toEqual([]);
  });
});
