import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { spawnEntry, tempDir, type Proc } from './support.js';

/*
 * Every part checks its whole configuration at start (sink/env-shell.ts): the real entry points, spawned in an
 * empty folder with a .env written by the test, so no developer's .env or shell is read.
 */

let tmp: Awaited<ReturnType<typeof tempDir>>;
const procs: Proc[] = [];
beforeEach(async () => {
  tmp = await tempDir('start-checks-');
});
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
  await tmp.remove();
});

const run = (entry: string, env: Record<string, string>, args: string[] = []) => {
  const proc = spawnEntry(entry, args, env, tmp.dir, entry === 'scripts/worker.ts');
  procs.push(proc);
  return proc;
};
const sink = (env: Record<string, string> = {}) =>
  run('sink/main.ts', { SINK_PORT: '0', SINK_DATA_DIR: join(tmp.dir, 'data'), ...env });

describe('a mistyped variable', () => {
  it('in .env stops the sink with exit 2 and the suggestion, with every other problem', async () => {
    await writeFile(join(tmp.dir, '.env'), 'SINK_USER=relay\nSINK_PASWORD=secret-password\nPGHOST=db\n');
    const proc = sink({ SINK_MAX_BYTES: 'lots' });
    expect(await proc.exited).toBe(2);
    const lines = proc.output().trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^configuration error: SINK_MAX_BYTES must be/),
      'unknown variable SINK_USER in .env: did you mean SINK_BASIC_AUTH_USER?',
      'unknown variable SINK_PASWORD in .env: did you mean SINK_BASIC_AUTH_PASS?',
    ]);
    expect(proc.output()).not.toContain('secret-password');
  });

  it('in the environment is named as a warning, and the sink starts', async () => {
    const proc = sink({ SINK_PASWORD: 'secret-password' });
    await proc.waitFor(/^listening on /m);
    expect(proc.output()).toContain(
      'warning: unknown variable SINK_PASWORD in the environment: did you mean SINK_BASIC_AUTH_PASS?',
    );
  });

  it('in .env stops npm run worker, as do the Worker settings it would answer 500 for', async () => {
    await writeFile(join(tmp.dir, '.env'), 'FORWARD_PARK_DELAYS=1m,5m\nWORKER_PROT=8788\n');
    const proc = run('scripts/worker.ts', { WORKER_PORT: '0', WORKER_DATA_DIR: join(tmp.dir, 'worker') });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toMatch(/^worker: configuration error: .*FORWARD_PARK_DELAYS must be/m);
    expect(proc.output()).toContain('worker: unknown variable WORKER_PROT in .env: did you mean WORKER_PORT?');
  });

  it('in .env stops a CLI before it sends anything', async () => {
    await writeFile(join(tmp.dir, '.env'), 'REPLAY_TO_PASSWORD=x\n');
    const proc = run('scripts/replay.ts', {}, ['--help']);
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toBe('replay: unknown variable REPLAY_TO_PASSWORD in .env: did you mean REPLAY_TO_PASS?\n');
  });
});

describe("the sink's first lines", () => {
  it('say that basic auth is off and what that means, and name only the unset tunnel variables', async () => {
    const proc = sink();
    await proc.waitFor(/^tunnel off.*$/m);
    const lines = proc.output().split('\n');
    expect(lines[0]).toMatch(/^listening on http:\/\/127\.0\.0\.1:(\d+)$/);
    const port = /:(\d+)$/.exec(lines[0]!)![1];
    expect(lines[1]).toBe(
      `basic auth OFF: anyone who reaches port ${port} can read every webhook ` +
        '(set SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS in .env to require a password)',
    );
    expect(proc.output()).toMatch(/^0 webhooks stored/m);
    expect(proc.output()).toMatch(/set NGROK_AUTHTOKEN, SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS in \.env$/m);
  });

  it('say that basic auth is on, and the tunnel hint names NGROK_AUTHTOKEN alone', async () => {
    await writeFile(join(tmp.dir, '.env'), 'SINK_BASIC_AUTH_USER=relay\nSINK_BASIC_AUTH_PASS=change-me-please\n');
    const proc = sink();
    const tunnel = (await proc.waitFor(/^tunnel off.*$/m))[0];
    expect(proc.output().split('\n')[1]).toBe('basic auth on (user relay)');
    expect(tunnel).toMatch(/, set NGROK_AUTHTOKEN in \.env$/);
    expect(proc.output()).not.toContain('change-me-please');
  });
});

describe('the count at start', () => {
  it('is singular for one webhook', async () => {
    const first = sink();
    const url = (await first.waitFor(/^listening on (\S+)$/m))[1]!;
    const res = await fetch(`${url}/receive-webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"messageId":"one"}',
    });
    expect(res.status).toBe(200);
    expect(await first.stop('SIGTERM')).toBe(0);
    const second = sink();
    await second.waitFor(/webhooks? stored/);
    expect(second.output()).toMatch(/^1 webhook stored \(/m);
  });
});

describe('a port clash', () => {
  let blocker: Server;
  beforeEach(async () => {
    blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
  });
  afterEach(async () => {
    await new Promise((done) => blocker.close(done));
  });

  it('names SINK_PORT', async () => {
    const port = (blocker.address() as AddressInfo).port;
    const proc = sink({ SINK_PORT: String(port) });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toContain(`sink: cannot start: port ${port} is already in use`);
    expect(proc.output()).toContain('set SINK_PORT to a free one');
  });
});
