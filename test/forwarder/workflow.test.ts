import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRunner } from '../../forwarder/runner/server.js';

// The runner's emulation of Pipedream, with fixture steps: flow.exit, flow.rerun, $.respond, the trigger event,
// and each runner's own environment, given to the steps' withEnv.

let dir: string;
const fixture = (key: string, step: string) => `    ${key}: test/forwarder/fixtures/${step}.ts\n`;
const manifest = (steps: string[]) => `name: fixture
trigger:
  type: http
steps:
${steps.map((s) => `  - name: ${s.replace(/\W/g, '_')}\n${fixture('source', s)}${fixture('action', s)}`).join('')}
env: []
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runner-workflow-'));
  await writeFile(join(dir, 'exit.yaml'), manifest(['exit-without-return', 'respond']));
  await writeFile(join(dir, 'respond.yaml'), manifest(['respond']));
  await writeFile(join(dir, 'rerun.yaml'), manifest(['rerun', 'exit-without-return']));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the runner as Pipedream', () => {
  it('$.flow.exit without return ends the workflow after the step, keeping its exports', async () => {
    const runs: unknown[] = [];
    const runner = await startRunner(
      { host: '127.0.0.1', port: 0 },
      { FIXTURE_VALUE: 'one' },
      {
        manifestPath: join(dir, 'exit.yaml'),
        log: () => {},
        onRun: (r) => runs.push(r),
      },
    );
    try {
      const answer = await fetch(runner.url, { method: 'POST' });
      expect(answer.status).toBe(202);
      expect(runs[0]).toMatchObject({
        outcome: 'ignored',
        reason: 'enough',
        step: 'exit_without_return',
        steps: { exit_without_return: { after: 'still ran', $return_value: { seen: 'one' } } },
      });
      expect((runs[0] as { steps: object }).steps).not.toHaveProperty('respond');
    } finally {
      await runner.close();
    }
  });

  it('builds the trigger event as Pipedream does, answers with $.respond, gives each runner its own env', async () => {
    const [a, b] = await Promise.all(
      ['first', 'second'].map((value) =>
        startRunner(
          { host: '127.0.0.1', port: 0 },
          { FIXTURE_VALUE: value },
          { manifestPath: join(dir, 'respond.yaml'), log: () => {} },
        ),
      ),
    );
    try {
      const raw = '{ "event": "job.status",\n "n": 1 }';
      const [ra, rb] = await Promise.all(
        [a!, b!].map((r) =>
          fetch(`${r.url}/hook/x?q=1&q=2&z=3`, {
            method: 'PUT',
            headers: { 'Content-Type': 'application/json', 'X-Custom': 'Yes' },
            body: raw,
          }),
        ),
      );
      expect(ra!.status).toBe(418);
      expect(ra!.headers.get('x-fixture')).toBe('yes');
      expect(await ra!.json()).toEqual({
        method: 'PUT',
        path: '/hook/x',
        query: { q: ['1', '2'], z: '3' },
        header: 'Yes',
        body: { event: 'job.status', n: 1 },
        bodyRaw: raw,
        env: 'first',
      });
      expect(((await rb!.json()) as { env: string }).env).toBe('second');
      expect(process.env.FIXTURE_VALUE).toBeUndefined();
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  it('$.flow.rerun parks the run (202), runs the step again with $.context.run, goes on past maxRetries', async () => {
    const runs: { outcome: string; steps: Record<string, Record<string, unknown>> }[] = [];
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    const runner = await startRunner(
      { host: '127.0.0.1', port: 0 },
      { FIXTURE_VALUE: 'r' },
      {
        manifestPath: join(dir, 'rerun.yaml'),
        log: () => {},
        onRun: (r) => {
          runs.push(r);
          if (r.outcome !== 'parked') done();
        },
      },
    );
    try {
      const answer = await fetch(runner.url, { method: 'POST' });
      expect(answer.status).toBe(202);
      expect(await answer.json()).toMatchObject({ outcome: 'parked', nextTryAt: expect.any(String) });
      await finished;
      expect(runs.map((r) => [r.outcome, r.steps.rerun!.seen])).toEqual([
        ['parked', { runs: 1, counted: 1 }],
        // The second run is past maxRetries (1): its rerun is ignored and the workflow goes on to the next step.
        ['ignored', { runs: 2, counted: 2 }],
      ]);
      expect(runs[1]!.steps.exit_without_return).toMatchObject({ $return_value: { seen: 'r' } });
    } finally {
      await runner.close();
    }
  });
});
