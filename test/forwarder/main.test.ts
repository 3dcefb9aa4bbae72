import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { REPO_ROOT } from '../../forwarder/manifest.js';
import { deliver, event } from './deliveries.js';
import { runnerProcessEnv, startStubSink, type StubSink } from './stub-sink.js';

// `npm run forwarder`'s entry point as a real process: its startup line, one delivery, a clean stop.

const SECRET = 'main-test-secret-TOPSECRET';
const PASS = 'main-test-pass-TOPSECRET';

let sink: StubSink;
let child: ChildProcessWithoutNullStreams;
let stdout = '';
let stderr = '';

beforeAll(async () => {
  sink = await startStubSink({ user: 'relay', pass: PASS });
  child = spawn(process.execPath, ['--import', 'tsx', 'forwarder/runner/main.ts'], {
    cwd: REPO_ROOT,
    env: runnerProcessEnv({ sinkUrl: sink.url, secret: SECRET, user: 'relay', pass: PASS }),
  });
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
});

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await sink.close();
});

const waitFor = async (test: () => boolean, what: string) => {
  for (let i = 0; i < 300 && !test(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!test()) throw new Error(`timed out waiting for ${what}; stdout: ${stdout} stderr: ${stderr}`);
};

it('prints where it listens, forwards a delivery, logs one line without secrets, stops on SIGTERM', async () => {
  await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)\n/.test(stdout), 'the startup line');
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\n/.exec(stdout)![1]);
  expect(port).toBeGreaterThan(0);
  expect(stdout.split('\n')[0]).toBe(`listening on http://127.0.0.1:${port}`);

  const payload = event({ status: 'CANCELLED' });
  const answer = await deliver(`http://127.0.0.1:${port}/`, payload, { secret: SECRET });
  expect(answer.status).toBe(200);
  expect(answer.json.summary).toBe('stored as key 1');
  expect(sink.stored.get(payload.messageId)).toBe(1);

  await waitFor(() => stdout.split('\n').length >= 3, 'the log line');
  const line = JSON.parse(stdout.split('\n')[1]!) as Record<string, unknown>;
  expect(line).toMatchObject({
    outcome: 'forwarded',
    http: 200,
    event: 'job.status',
    status: 'CANCELLED',
    messageId: payload.messageId,
  });

  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  for (const text of [stdout, stderr]) {
    expect(text).not.toContain('TOPSECRET');
    expect(text.toLowerCase()).not.toContain('authorization');
  }
});
