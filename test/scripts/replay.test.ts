import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { parseValidateConfig } from '../../shared/config.js';
import { makeEvent } from '../../shared/events.js';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { emptyEnv } from '../../shared/env.js';
import { dump, http } from '../e2e/support.js';
import { startTestSink, type TestSink } from '../sink/sink-support.js';
import { waitFor } from '../support/wait-for.js';
import { buildWorkerOnce, startWorker, type RunningWorker } from '../worker/support.js';
import { startReceiver } from './support/receiver.js';
import { runScript } from './support/run-cli.js';

// npm run replay as a real process: read from one sink, send to the Worker (in workerd), another sink and a
// receiver.

const AUTH = { user: 'relay', pass: 'replay-test-password' };
const SECRET = 'replay-test-secret';
const basic = `Basic ${Buffer.from(`${AUTH.user}:${AUTH.pass}`).toString('base64')}`;

let source: TestSink;
let built: Awaited<ReturnType<typeof buildWorkerOnce>>;
/** What the source holds, in key order: 3 live FAILED jobs, 2 test events, 1 live order, one body formatted by hand. */
const stored: string[] = [];

const body = (event: 'job.status' | 'order.status', status: string, liveMode: boolean) =>
  JSON.stringify(makeEvent({ event, status, liveMode, messageId: randomUUID(), timestamp: new Date().toISOString() }));

beforeAll(async () => {
  built = await buildWorkerOnce();
  // The source checks UP42's signature on arrival, so what it holds is verified: only that is signed anew.
  const up42 = parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET });
  if (!up42.ok) throw new Error(up42.message);
  source = await startTestSink({ store: 'memory', auth: AUTH, up42: up42.value });
  const handFormatted =
    `{"event": "job.status", "messageId": "${randomUUID()}", "liveMode": true, ` +
    '"body": {"status": "FAILED", "jobId": "j-1", "progress": 1.0}}';
  stored.push(
    body('job.status', 'FAILED', true),
    body('job.status', 'RUNNING', false),
    body('job.status', 'FAILED', true),
    body('order.status', 'FULFILLED', false),
    body('order.status', 'FAILED_PERMANENTLY', true),
    handFormatted,
  );
  for (const text of stored) {
    const reply = await http(`${source.url}/receive-webhooks`, {
      method: 'POST',
      body: text,
      headers: {
        ...signedDeliveryHeaders({ body: text, secret: SECRET, created: Math.floor(Date.now() / 1000) }),
        authorization: basic,
      },
    });
    expect(reply.status).toBe(200);
  }
});

afterAll(async () => {
  await source?.close();
  await built?.cleanup();
});

/** The Worker, delivering to `sink`, checking SECRET. */
const startForwarder = (sink: TestSink): Promise<RunningWorker> =>
  startWorker(built.scriptPath, {
    UP42_WEBHOOK_SECRET: SECRET,
    SINK_URL: sink.url,
    SINK_BASIC_AUTH_USER: AUTH.user,
    SINK_BASIC_AUTH_PASS: AUTH.pass,
  });

const replay = (args: string[], env: Record<string, string> = {}) =>
  runScript('scripts/replay.ts', ['--from', source.url, '--rate', '1000', ...args], {
    ...emptyEnv(['scripts', 'sink', 'forwarder']),
    SINK_BASIC_AUTH_USER: AUTH.user,
    SINK_BASIC_AUTH_PASS: AUTH.pass,
    UP42_WEBHOOK_SECRET: SECRET,
    ...env,
  });

describe('npm run replay', () => {
  it('stores byte-identical bodies in another sink, in key order', async () => {
    const target = await startTestSink({ store: 'memory', auth: AUTH });
    try {
      const to = new URL('/receive-webhooks', target.url);
      to.username = AUTH.user;
      const run = await replay(['--to', to.toString()], { REPLAY_TO_PASS: AUTH.pass });
      expect(run.stderr).toBe('');
      expect(run.stdout).not.toContain(AUTH.pass);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('6 webhooks replayed: 6 ok, 0 failed');
      expect(run.stdout).toMatch(/^key 1 job\.status FAILED: 200 /m);
      const { lines } = await dump(target.url, AUTH);
      expect(lines).toEqual(stored);
    } finally {
      await target.close();
    }
  });

  it("passes the Worker's validation: every live webhook is kept and stored, in order", async () => {
    const sink = await startTestSink({ store: 'memory', auth: AUTH });
    const worker = await startForwarder(sink);
    try {
      const run = await replay(['--to', worker.url, '--live']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('4 webhooks replayed: 4 ok, 0 failed');
      const live = stored.filter((text) => (JSON.parse(text) as { liveMode: boolean }).liveMode);
      await waitFor(() => sink.store.count === live.length, { what: 'the outbox to deliver them' });
      const { lines } = await dump(sink.url, AUTH);
      expect(lines).toEqual(live);
    } finally {
      await worker.close();
      await sink.close();
    }
  });

  it(
    'signs each webhook anew: the Worker refuses them signed with another secret, ' + 'and the exit code says so',
    async () => {
      const sink = await startTestSink({ store: 'memory', auth: AUTH });
      const worker = await startForwarder(sink);
      try {
        const run = await replay(['--to', worker.url, '--live', '--limit', '1'], {
          UP42_WEBHOOK_SECRET: 'not-the-secret',
        });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^key 1 job\.status FAILED: 401 .*mac-mismatch/m);
        expect(run.stderr).toContain('1 webhook replayed: 0 ok, 1 failed');
        expect(run.stderr).not.toContain('not-the-secret');
      } finally {
        await worker.close();
        await sink.close();
      }
    },
  );

  it("signs anew only what the sink verified as UP42's on arrival, and says how many it skipped", async () => {
    // A sink without the secret stores what its credentials let in, unverified: nothing of it is signed anew.
    const unverified = await startTestSink({ store: 'memory', auth: AUTH });
    const receiver = await startReceiver();
    try {
      for (const text of stored.slice(0, 2)) {
        const reply = await http(`${unverified.url}/receive-webhooks`, {
          method: 'POST',
          body: text,
          headers: { 'content-type': 'application/json', authorization: basic },
        });
        expect(reply.status).toBe(200);
      }
      const signed = await replay(['--from', unverified.url, '--to', receiver.url]);
      expect(signed.code).toBe(0);
      expect(signed.stderr).toContain(
        "replay: skipped 2 webhooks (keys 1, 2) the sink did not verify as UP42's when it arrived: only those are " +
          'signed anew',
      );
      expect(signed.stdout).toContain('0 webhooks replayed: 0 ok, 0 failed');
      expect(receiver.received).toHaveLength(0);
      const unsigned = await replay(['--from', unverified.url, '--to', receiver.url, '--unsigned']);
      expect([unsigned.code, unsigned.stderr]).toEqual([0, '']);
      expect(receiver.received).toHaveLength(2);
    } finally {
      await receiver.close();
      await unverified.close();
    }
  });

  it('filters as the dump does and, with --dry-run, sends nothing', async () => {
    const receiver = await startReceiver();
    try {
      const run = await replay(['--to', receiver.url, '--dry-run', '--event', 'order.status']);
      expect(run.code).toBe(0);
      expect(run.stdout.split('\n').filter((l) => l.startsWith('key '))).toEqual([
        'key 4 order.status FULFILLED (dry run, not sent)',
        'key 5 order.status FAILED_PERMANENTLY (dry run, not sent)',
      ]);
      expect(run.stdout).toContain(`2 webhooks would be sent to ${receiver.url}`);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });

  it('sends unsigned with --unsigned, and exits 1 when the target refuses', async () => {
    const receiver = await startReceiver(500);
    try {
      const run = await replay(['--to', receiver.url, '--unsigned', '--since', '4']);
      expect(run.code).toBe(1);
      expect(receiver.received.map((r) => r.body.toString('utf8'))).toEqual(stored.slice(4));
      expect(receiver.received.every((r) => r.headers.signature === undefined)).toBe(true);
      expect(run.stderr).toContain('2 webhooks replayed: 0 ok, 2 failed');
    } finally {
      await receiver.close();
    }
  });

  it('refuses a wrong command line and a sink that refuses the credentials, sending nothing', async () => {
    const usage = await replay([]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--to is required');
    const receiver = await startReceiver();
    try {
      const refused = await replay(['--to', receiver.url], { SINK_BASIC_AUTH_PASS: 'wrong-password' });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('refused the credentials');
      expect(refused.stderr).not.toContain('wrong-password');
      expect(receiver.received).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });

  it('refuses a password in --to, naming where it goes, and sends nothing', async () => {
    const receiver = await startReceiver();
    try {
      const to = new URL(receiver.url);
      to.username = 'someone';
      to.password = 'password-on-the-command-line';
      const run = await replay(['--to', to.toString()]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--to takes no password: put it in REPLAY_TO_PASS (in the environment or .env)');
      expect(run.stderr + run.stdout).not.toContain('password-on-the-command-line');
      // A user and no password, and no terminal to ask on: told where the password goes.
      const noPass = await replay(['--to', receiver.url], { REPLAY_TO_USER: 'someone' });
      expect(noPass.code).toBe(2);
      expect(noPass.stderr).toContain('REPLAY_TO_PASS');
      expect(receiver.received).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });

  it('sends REPLAY_TO_USER and REPLAY_TO_PASS as basic auth, and prints an echo of them redacted', async () => {
    const receiver = await startReceiver();
    receiver.state.echo = true;
    try {
      const env = { REPLAY_TO_USER: 'target-user', REPLAY_TO_PASS: 'target-password-123' };
      const run = await replay(['--to', receiver.url, '--limit', '2'], env);
      expect(run.code).toBe(0);
      const sent = `Basic ${Buffer.from('target-user:target-password-123').toString('base64')}`;
      expect(receiver.received.map((r) => r.headers.authorization)).toEqual([sent, sent]);
      expect(run.stdout).toMatch(/^key 1 job\.status FAILED: 200 .*"authorization":"Basic \[redacted\]"/m);
      const said = run.stdout + run.stderr;
      for (const secret of [sent.slice(6), 'target-password-123', AUTH.pass, SECRET])
        expect(said).not.toContain(secret);
    } finally {
      await receiver.close();
    }
  });
});
