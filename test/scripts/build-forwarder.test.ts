import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANIFEST_PATH, REPO_ROOT } from '../../forwarder/manifest.js';
import { buildForwarder } from '../../scripts/build-forwarder.js';
import { deliver, event } from '../forwarder/deliveries.js';
import { runnerProcessEnv, startStubSink, type StubSink } from '../forwarder/stub-sink.js';
import { waitFor } from '../support/wait-for.js';

// `npm run forwarder`'s bundle: built into a temporary folder, run with plain node (no tsx, no TypeScript), as
// the real runner against a stub sink on loopback.

const SECRET = 'bundle-test-secret-TOPSECRET';
const USER = 'relay';
const PASS = 'bundle-test-pass-TOPSECRET';

let dir: string;
let sink: StubSink;
/** Runners started by the tests: one a failed assertion left running is killed, or the stub sink never closes. */
const started: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'build-forwarder-'));
  // The bundle leaves packages as imports, resolved from node_modules beside it as in the repository.
  await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  // A developer's .env beside the runner, as in their checkout: the runner reads it from its folder, and
  // every line here would make it turn the test's deliveries away. runnerProcessEnv sets each variable of the
  // forwarder and the runner, so none of these applies.
  await writeFile(
    join(dir, '.env'),
    ['UP42_NOTIFY_STATUSES=SUCCEEDED', 'UP42_MAX_AGE_SECONDS=0', 'FORWARD_MAX_ATTEMPTS=0'].join('\n'),
  );
  sink = await startStubSink({ user: USER, pass: PASS });
});

afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await sink.close();
  await rm(dir, { recursive: true, force: true });
});

interface Running {
  url: string;
  output: () => string;
  stop: () => Promise<number | null>;
}

/** Starts a built runner under plain node, in the temporary folder beside the .env above. */
async function run(bundle: string): Promise<Running> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [bundle], {
    cwd: dir,
    env: runnerProcessEnv({ sinkUrl: sink.url, secret: SECRET, user: USER, pass: PASS }),
  });
  started.push(child);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  await waitFor(() => /listening on (\S+)\n/.test(out) || child.exitCode !== null, {
    what: 'the bundled runner to listen or exit',
    describe: () => out,
  }).catch(() => undefined);
  const url = /listening on (\S+)\n/.exec(out)?.[1];
  if (url === undefined) {
    child.kill('SIGKILL');
    throw new Error(`the bundle did not start: ${out}`);
  }
  return {
    url,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('buildForwarder', () => {
  it(
    'bundles the runner and the steps into one file that plain node runs: ' + 'verified, forwarded, logged, stopped',
    async () => {
      const bundle = await buildForwarder(join(dir, 'forwarder'));
      const code = await readFile(bundle, 'utf8');
      // Nothing left to compile at run time: no TypeScript source is imported, and tsx is not needed.
      expect(code).not.toMatch(/from\s+["'][^"']*\.ts["']/);
      expect(code).not.toMatch(/["']tsx["']/);

      const runner = await run(bundle);
      const payload = event({ status: 'FAILED' });
      const answer = await deliver(`${runner.url}/`, payload, { secret: SECRET });
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ outcome: 'forwarded', summary: `stored as key ${sink.stored.size}` });
      expect(sink.stored.has(payload.messageId)).toBe(true);
      expect(sink.requests.slice(-2).map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /ping',
        'POST /receive-webhooks',
      ]);

      const rejected = await deliver(`${runner.url}/`, event(), { secret: 'not-the-secret' });
      expect(rejected.status).toBe(401);

      expect(await runner.stop()).toBe(0);
      const lines = runner.output().trim().split('\n');
      expect(lines[0]).toBe(`listening on ${runner.url}`);
      expect(lines.slice(1).map((l) => (JSON.parse(l) as { outcome: string }).outcome)).toEqual([
        'forwarded',
        'rejected',
      ]);
      expect(runner.output()).not.toContain('TOPSECRET');
      expect(runner.output().toLowerCase()).not.toContain('authorization');
    },
  );

  it('runs the steps of the manifest it was built from, without reading pipedream.yaml again', async () => {
    // pipedream.yaml with the forward step left out: the bundle must run validate only.
    const manifest = (await readFile(MANIFEST_PATH, 'utf8')).replace(
      /\n {2}- name: forward\n( {4}.*\n| {6}.*\n)*/,
      '\n',
    );
    expect(manifest).not.toContain('name: forward');
    const manifestPath = join(dir, 'validate-only.yaml');
    await writeFile(manifestPath, manifest);
    const bundle = await buildForwarder(join(dir, 'validate-only'), manifestPath);

    const runner = await run(bundle);
    const before = sink.requests.length;
    const answer = await deliver(`${runner.url}/`, event({ status: 'FAILED' }), { secret: SECRET });
    expect(await runner.stop()).toBe(0);
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.json.steps as object)).toEqual(['validate']);
    expect(sink.requests.length).toBe(before);
  });
});
