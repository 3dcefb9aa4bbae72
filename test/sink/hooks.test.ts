import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEvent } from '../../shared/events.js';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { cleanEnvValue, hookEnvironment, MAX_ENV_VALUE_CHARS } from '../../sink/hooks/hook-env.js';
import { startHookRunner } from '../../sink/hooks/hook-runner.js';
import { createMemoryStore } from '../../sink/store/memory-store.js';
import { waitFor } from '../support/wait-for.js';
import { basic, call, post, spawnSink, tempDir, type SpawnedSink } from './sink-support.js';

// SINK_HOOK_COMMAND with real sink processes and a real command: what it is given, in which order, and that
// nothing is skipped or lost across failures and a SIGKILL.

const AUTH = { user: 'relay', pass: 'hooks-test-password' };
const authorization = basic(AUTH.user, AUTH.pass);

/**
 * The hook under test: appends one JSON line per run to runs.jsonl (its key, environment and standard input),
 * fails while `fail-<key>` holds a number above 0 (counting it down), and for `hold-<key>` waits until
 * `release` exists, as a long download would.
 */
const HOOK = `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const dir = process.argv[2];
const key = process.env.WEBHOOK_KEY;
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const pick = (names) => Object.fromEntries(names.map((n) => [n, process.env[n] ?? null]));
const env = pick(['WEBHOOK_KEY', 'WEBHOOK_EVENT', 'WEBHOOK_STATUS', 'WEBHOOK_LIVE_MODE', 'WEBHOOK_MESSAGE_ID',
  'WEBHOOK_RECEIVED_AT', 'UP42_ORDER_ID', 'UP42_JOB_ID', 'SINK_BASIC_AUTH_PASS', 'UP42_WEBHOOK_SECRET',
  'UP42_WEBHOOK_SECRET_PREVIOUS', 'up42_webhook_secret_zwei', 'PGPASSWORD']);
const run = { key: Number(key), pid: process.pid, env, stdin: Buffer.concat(chunks).toString('utf8') };
appendFileSync(join(dir, 'runs.jsonl'), JSON.stringify(run) + '\\n');
console.log('working on', key);
const failFile = join(dir, 'fail-' + key);
if (existsSync(failFile)) {
  const left = Number(readFileSync(failFile, 'utf8'));
  if (left > 0) {
    writeFileSync(failFile, String(left - 1));
    console.error('failing on purpose');
    process.exit(3);
  }
}
if (existsSync(join(dir, 'hold-' + key))) {
  while (!existsSync(join(dir, 'release'))) await new Promise((r) => setTimeout(r, 20));
}
`;

interface Run {
  key: number;
  pid: number;
  env: Record<string, string | null>;
  stdin: string;
}

let work: { dir: string; remove: () => Promise<void> };
let sinks: SpawnedSink[] = [];

beforeEach(async () => {
  work = await tempDir();
  writeFileSync(join(work.dir, 'hook.mjs'), HOOK);
});

afterEach(async () => {
  for (const sink of sinks) await sink.stop('SIGKILL');
  sinks = [];
  // A hook left waiting by a killed sink is ended with the rest of the test's processes.
  for (const run of runs()) {
    try {
      process.kill(run.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await work.remove();
});

/** Whether a process runs: a killed one may linger as a zombie until its new parent reaps it. */
const running = (pid: number) => {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

const runs = (): Run[] => {
  const path = join(work.dir, 'runs.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Run);
};

async function startSink(vars: Record<string, string> = {}): Promise<SpawnedSink> {
  const sink = await spawnSink({
    SINK_DATA_DIR: join(work.dir, 'data'),
    SINK_BASIC_AUTH_USER: AUTH.user,
    SINK_BASIC_AUTH_PASS: AUTH.pass,
    SINK_HOOK_COMMAND: `"${process.execPath}" "${join(work.dir, 'hook.mjs')}" "${work.dir}"`,
    ...vars,
  });
  sinks.push(sink);
  return sink;
}

const ORDER_ID = '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d';

/** Of every 5: 2 live FULFILLED orders (the hook's), a test one, a live PLACED order and a live FAILED job. */
function webhook(i: number): string {
  const kind = i % 5;
  const event = kind < 4 ? 'order.status' : 'job.status';
  const status = kind < 3 ? 'FULFILLED' : kind === 3 ? 'PLACED' : 'FAILED';
  const liveMode = kind !== 2;
  return JSON.stringify(
    makeEvent({ event, status, liveMode, messageId: randomUUID(), timestamp: new Date().toISOString() }),
  );
}

/** POSTs each body with the credentials; signed as UP42 signs when the sink holds the webhook secret. */
async function store(sink: SpawnedSink, bodies: string[], secret?: string): Promise<void> {
  for (const body of bodies) {
    const signed =
      secret === undefined ? {} : signedDeliveryHeaders({ body, secret, created: Math.floor(Date.now() / 1000) });
    const reply = await post(sink.url, body, { ...signed, authorization, 'content-type': 'application/json' });
    expect(reply.status).toBe(200);
  }
}

const hookStatus = async (sink: SpawnedSink) =>
  JSON.parse((await call(sink.url, '/hooks', { headers: { authorization } })).text) as Record<string, unknown>;

describe('SINK_HOOK_COMMAND', () => {
  it('runs for exactly the matching webhooks, in key order, with the body on stdin and the variables set', async () => {
    const sink = await startSink({ SINK_HOOK_FILTER: 'event=order.status&status=FULFILLED&liveMode=true' });
    const bodies = Array.from({ length: 50 }, (_, i) => webhook(i));
    await store(sink, bodies);
    const expected = bodies
      .map((body, i) => ({
        key: i + 1,
        body,
        parsed: JSON.parse(body) as { event: string; liveMode: boolean; body: { status: string } },
      }))
      .filter(({ parsed }) => parsed.event === 'order.status' && parsed.body.status === 'FULFILLED' && parsed.liveMode);
    expect(expected).toHaveLength(20);
    await waitFor(
      () =>
        runs().length >= expected.length && (sink.stdout().match(/hook \d+: done/g)?.length ?? 0) >= expected.length,
      {
        what: `${expected.length} hook runs`,
        describe: () => sink.stdout() + sink.stderr(),
      },
    );
    const seen = runs();
    expect(seen.map((r) => r.key)).toEqual(expected.map((e) => e.key));
    for (const [i, run] of seen.entries()) {
      const { key, body, parsed } = expected[i]!;
      expect(run.stdin).toBe(body);
      expect(run.env).toMatchObject({
        WEBHOOK_KEY: String(key),
        WEBHOOK_EVENT: 'order.status',
        WEBHOOK_STATUS: 'FULFILLED',
        WEBHOOK_LIVE_MODE: 'true',
        WEBHOOK_MESSAGE_ID: (parsed as unknown as { messageId: string }).messageId,
        UP42_ORDER_ID: ORDER_ID,
        UP42_JOB_ID: null,
        SINK_BASIC_AUTH_PASS: null,
      });
      expect(Number.isNaN(Date.parse(run.env.WEBHOOK_RECEIVED_AT!))).toBe(false);
    }
    expect(sink.stdout()).toContain(`hook ${expected[0]!.key}: working on ${expected[0]!.key}`);
    const status = await hookStatus(sink);
    expect(status).toMatchObject({ configured: true, cursor: expected.at(-1)!.key, failing: null });
    expect(status.lastRun).toMatchObject({ key: expected.at(-1)!.key, ok: true, exitCode: 0 });
  });

  it('tries a failing run again, with a pause, and never skips ahead to the next webhook', async () => {
    writeFileSync(join(work.dir, 'fail-2'), '2');
    const sink = await startSink();
    await store(sink, [webhook(0), webhook(1), webhook(2)]);
    await waitFor(() => /hook 3: done/.test(sink.stdout()), {
      what: 'the third run',
      describe: () => sink.stdout() + sink.stderr(),
    });
    expect(runs().map((r) => r.key)).toEqual([1, 2, 2, 2, 3]);
    expect(sink.stderr()).toMatch(/hook 2: failed \(exit 3\), attempt 1; trying again in 1 s/);
    expect(sink.stderr()).toMatch(/hook 2: failed \(exit 3\), attempt 2; trying again in 2 s/);
    expect(sink.stdout()).toContain('hook 2: failing on purpose');
  });

  it('shows the failing run at GET /hooks while it waits to try again', async () => {
    writeFileSync(join(work.dir, 'fail-1'), '1');
    const sink = await startSink();
    await store(sink, [webhook(0)]);
    await waitFor(() => /hook 1: failed/.test(sink.stderr()), { what: 'the failure' });
    const status = await hookStatus(sink);
    expect(status).toMatchObject({ cursor: 0, failing: { key: 1, attempts: 1, exitCode: 3, timedOut: false } });
    await waitFor(() => /hook 1: done/.test(sink.stdout()), { what: 'the retry' });
    expect(await hookStatus(sink)).toMatchObject({ cursor: 1, failing: null });
  });

  it('runs again, after a SIGKILL of the sink, the webhook whose run was cut off, and loses none', async () => {
    writeFileSync(join(work.dir, 'hold-2'), '');
    let sink = await startSink();
    await store(sink, [webhook(0), webhook(1), webhook(2)]);
    await waitFor(() => runs().some((r) => r.key === 2), { what: 'the run of key 2' });
    await sink.stop('SIGKILL');
    sinks = [];
    for (const run of runs().filter((r) => r.key === 2)) process.kill(run.pid, 'SIGKILL');
    writeFileSync(join(work.dir, 'release'), '');
    sink = await startSink();
    await store(sink, [webhook(3)]);
    await waitFor(() => /hook 4: done/.test(sink.stdout()), {
      what: 'the run of key 4',
      describe: () => sink.stdout() + sink.stderr(),
    });
    expect(runs().map((r) => r.key)).toEqual([1, 2, 2, 3, 4]);
  });

  it('works through webhooks stored before it was configured, from SINK_HOOK_FROM_KEY', async () => {
    const plain = await spawnSink({
      SINK_DATA_DIR: join(work.dir, 'data'),
      SINK_BASIC_AUTH_USER: AUTH.user,
      SINK_BASIC_AUTH_PASS: AUTH.pass,
    });
    await store(plain, [webhook(0), webhook(1), webhook(2), webhook(3)]);
    await plain.stop();
    const sink = await startSink({ SINK_HOOK_FROM_KEY: '2' });
    await waitFor(() => /hook 4: done/.test(sink.stdout()), {
      what: 'the run of key 4',
      describe: () => sink.stdout() + sink.stderr(),
    });
    expect(runs().map((r) => r.key)).toEqual([2, 3, 4]);
  });

  it('stops a run past SINK_HOOK_TIMEOUT_SECONDS, with what it started, and tries it again', async () => {
    writeFileSync(join(work.dir, 'hold-1'), '');
    const sink = await startSink({ SINK_HOOK_TIMEOUT_SECONDS: '1' });
    await store(sink, [webhook(0)]);
    await waitFor(() => /hook 1: failed \(timed out after 1 s\), attempt 1/.test(sink.stderr()), {
      what: 'the timeout',
    });
    const first = runs()[0]!;
    await waitFor(() => !running(first.pid), { what: `the end of the timed-out command (pid ${first.pid})` });
    writeFileSync(join(work.dir, 'release'), '');
    await waitFor(() => /hook 1: done/.test(sink.stdout()), { what: 'the second run' });
    expect(runs().map((r) => r.key)).toEqual([1, 1]);
  });

  it('refuses a filter that is not the dump query syntax', async () => {
    await expect(startSink({ SINK_HOOK_FILTER: 'liveMode=maybe' })).rejects.toThrow(
      /SINK_HOOK_FILTER .*liveMode must be true or false/,
    );
  });
});

describe('hooks that survive any webhook and any command', () => {
  const secrets = {
    UP42_WEBHOOK_SECRET: 'the-webhook-secret',
    UP42_WEBHOOK_SECRET_PREVIOUS: 'the-previous-secret',
    up42_webhook_secret_zwei: 'the-aliased-secret',
    PGPASSWORD: 'the-database-password',
  };

  it('runs for a jobId with a NUL and an orderId of 200,000 characters, cleaned, and for those after', async () => {
    const sink = await startSink(secrets);
    const nul = { event: 'job.status', liveMode: true, messageId: randomUUID(), body: { jobId: 'job\u0000id' } };
    const long = { event: 'order.status', messageId: randomUUID(), body: { orderId: 'o'.repeat(200_000) } };
    // UP42's live job event names the job `body.id` (its test event `body.jobId`).
    const live = { event: 'job.status', messageId: randomUUID(), body: { id: 'live-job-id', status: 'FAILED' } };
    // The sink holds the webhook secret, so it checks UP42's signature: the deliveries come signed.
    await store(sink, [JSON.stringify(nul), JSON.stringify(long), JSON.stringify(live)], secrets.UP42_WEBHOOK_SECRET);
    await waitFor(() => /hook 3: done/.test(sink.stdout()), {
      what: 'the third run',
      describe: () => sink.stdout() + sink.stderr(),
    });
    const seen = runs();
    expect(seen.map((r) => r.key)).toEqual([1, 2, 3]);
    expect(seen[0]!.env.UP42_JOB_ID).toBe('jobid');
    expect(seen[1]!.env.UP42_ORDER_ID).toBe('o'.repeat(MAX_ENV_VALUE_CHARS));
    expect(seen[1]!.stdin).toBe(JSON.stringify(long));
    expect(seen[2]!.env.UP42_JOB_ID).toBe('live-job-id');
    for (const run of seen) {
      expect(run.env).toMatchObject({
        SINK_BASIC_AUTH_PASS: null,
        UP42_WEBHOOK_SECRET: null,
        UP42_WEBHOOK_SECRET_PREVIOUS: null,
        up42_webhook_secret_zwei: null,
        PGPASSWORD: null,
      });
    }
    expect(await hookStatus(sink)).toMatchObject({ cursor: 3, failing: null, lastRun: { key: 3, ok: true } });
  });

  it('counts exit 0 as done though a daemon it started holds its output, and lets the sink stop', async () => {
    const pidFile = join(work.dir, 'daemon.pid');
    const sink = await startSink({
      SINK_HOOK_TIMEOUT_SECONDS: '5',
      SINK_HOOK_COMMAND: `setsid sh -c 'echo $$ > "${pidFile}"; exec sleep 60' & echo started; exit 0`,
    });
    try {
      await store(sink, [webhook(0), webhook(1)]);
      await waitFor(() => /hook 2: done/.test(sink.stdout()), {
        what: 'the second run',
        describe: () => sink.stdout() + sink.stderr(),
      });
      expect(sink.stdout().match(/hook \d: done \(exit 0/g)).toHaveLength(2);
      expect(sink.stderr()).not.toMatch(/timed out/);
      // The daemons still run, and hold nothing the sink waits on: SIGTERM ends it.
      expect(running(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
      expect(await sink.stop('SIGTERM')).toBe(0);
    } finally {
      for (const line of readFileSync(pidFile, 'utf8').split('\n').filter(Boolean)) killQuietly(Number(line));
    }
  });

  it('ends a timed-out run though a daemon holds its output, and tries it again', async () => {
    const pidFile = join(work.dir, 'daemon.pid');
    const sink = await startSink({
      SINK_HOOK_TIMEOUT_SECONDS: '1',
      SINK_HOOK_COMMAND: `setsid sh -c 'echo $$ >> "${pidFile}"; exec sleep 60' & sleep 30`,
    });
    try {
      await store(sink, [webhook(0)]);
      await waitFor(() => /hook 1: failed \(timed out after 1 s\), attempt 2/.test(sink.stderr()), {
        what: 'two timed-out runs, well before the daemon ends',
        timeoutMs: 20_000,
        describe: () => sink.stdout() + sink.stderr(),
      });
      expect(await hookStatus(sink)).toMatchObject({ failing: { key: 1, timedOut: true } });
    } finally {
      await sink.stop('SIGTERM');
      for (const line of readFileSync(pidFile, 'utf8').split('\n').filter(Boolean)) killQuietly(Number(line));
    }
  });

  it('counts a command that cannot start as one failed run, shows why, and tries again', async () => {
    const store = createMemoryStore({ maxBytes: 1 << 20 });
    let saved: number | null = null;
    const warnings: string[] = [];
    const cwd = join(work.dir, 'not-yet');
    const runner = await startHookRunner({
      settings: {
        command: 'exit 0',
        filter: {},
        filterText: '',
        timeoutMs: 5_000,
        fromKey: 1,
        baseEnv: { PATH: process.env.PATH },
        cwd,
      },
      store,
      cursor: { read: async () => saved, write: async (key) => void (saved = key) },
      log: () => undefined,
      warn: (line) => warnings.push(line),
    });
    try {
      await store.append(Buffer.from('{"a":1}'), { messageId: 'a', event: null, status: null, liveMode: null });
      await waitFor(() => runner.status().failing !== null, { what: 'the failed start' });
      expect(runner.status().failing).toMatchObject({ key: 1, attempts: 1, exitCode: null, timedOut: false });
      expect(runner.status().failing!.error).toMatch(/ENOENT/);
      expect(warnings[0]).toMatch(/^hook 1: failed \(could not start: .*ENOENT.*\), attempt 1; trying again in 1 s$/);
      mkdirSync(cwd);
      await waitFor(() => saved === 1, { what: 'the run once the folder is there' });
      expect(runner.status()).toMatchObject({ cursor: 1, failing: null, lastRun: { key: 1, ok: true, error: null } });
    } finally {
      await runner.stop();
    }
  });

  it('gives the command no secret of the sink or the forwarder, and cleans every webhook value', () => {
    const env = hookEnvironment({
      PATH: '/bin',
      HOME: '/home/you',
      SINK_BASIC_AUTH_USER: 'relay',
      SINK_BASIC_AUTH_PASS: 'p',
      ngrok_basic_auth_pass: 'p',
      NGROK_AUTHTOKEN: 't',
      UP42_WEBHOOK_SECRET: 's',
      UP42_WEBHOOK_SECRET_PREVIOUS: 's',
      up42_webhook_secret_zwei: 's',
      PGPASSWORD: 'p',
      PGSSLPASSWORD: 'p',
      PGUSER: 'relay',
      SINK_DATABASE_URL: 'postgres://relay:db-pass@db.example:5432/hooks?sslmode=require&password=x',
      UP42_USERNAME: 'me@example.com',
      UP42_PASSWORD: 'up42-pass',
    });
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/home/you',
      SINK_BASIC_AUTH_USER: 'relay',
      PGUSER: 'relay',
      SINK_DATABASE_URL: 'postgres://relay@db.example:5432/hooks?sslmode=require',
      // A hook that downloads from UP42 signs in with these.
      UP42_USERNAME: 'me@example.com',
      UP42_PASSWORD: 'up42-pass',
    });
    expect(cleanEnvValue('a\u0000b\nc\u007fd')).toBe('abcd');
    expect(cleanEnvValue('x'.repeat(10_000))).toHaveLength(MAX_ENV_VALUE_CHARS);
  });
});

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}
