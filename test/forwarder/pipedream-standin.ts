import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadManifest, REPO_ROOT } from '../../forwarder/manifest.js';
import { buildPipedream, platformVersion, type BuiltFile } from '../../scripts/build-pipedream.js';
import { emptyEnv } from '../../shared/env.js';
import type { RunSpec, Trigger, WorkflowRun } from './pipedream-host.js';

/*
 * A small stand-in for Pipedream's runtime, for the pasted steps and the published actions as
 * `npm run build:pipedream` builds them. `buildSteps` builds them into a temporary folder where their one
 * import, `@pipedream/platform@<version>`, resolves to the project's copy (as Pipedream resolves `pkg@version`
 * imports) and nothing else does. `startWorkflow` runs the steps of pipedream.yaml, in order, in a process of
 * their own whose environment is the workflow's variables (pipedream-host.ts says what it plays of Pipedream).
 */

export type { RunSpec, Trigger, WorkflowRun };

export interface BuiltSteps {
  dir: string;
  files: BuiltFile[];
  version: string;
  cleanup(): Promise<void>;
}

export async function buildSteps(): Promise<BuiltSteps> {
  const dir = await mkdtemp(join(tmpdir(), 'pipedream-standin-'));
  const version = await platformVersion();
  await mkdir(join(dir, 'node_modules', '@pipedream'), { recursive: true });
  await symlink(
    join(REPO_ROOT, 'node_modules', '@pipedream', 'platform'),
    join(dir, 'node_modules', '@pipedream', `platform@${version}`),
    'dir',
  );
  const files = await buildPipedream({ outDir: join(dir, 'pipedream') });
  return { dir, files, version, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface Workflow {
  /** The HTTP trigger's URL: POST a delivery here, the answer is the run's record. */
  url: string;
  /** Runs a trigger, props or a rerun as given. */
  run(spec: RunSpec): Promise<WorkflowRun>;
  /** Runs the step that asked for `$.flow.rerun` in `previous` again, as Pipedream does after the delay. */
  rerun(previous: WorkflowRun, trigger: Trigger, props?: RunSpec['props']): Promise<WorkflowRun>;
  /** Everything the process printed. */
  output(): string;
  close(): Promise<void>;
}

const HOST = join(REPO_ROOT, 'test', 'forwarder', 'pipedream-host.ts');
/** tsx by path: the process runs in the build folder, which has no node_modules of ours to find it in. */
const TSX_LOADER = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/**
 * One workflow with `env` as its variables (and nothing of the developer's environment), its steps the built
 * code steps or, with `kind: 'action'`, the built actions.
 */
export async function startWorkflow(
  built: BuiltSteps,
  env: Record<string, string>,
  kind: 'step' | 'action' = 'step',
): Promise<Workflow> {
  const manifest = await loadManifest();
  const files = manifest.steps.map((step) => ({
    name: step.name,
    path: built.files.find((f) => f.kind === kind && f.step === step.name)!.path,
  }));
  const child = spawn(process.execPath, ['--import', TSX_LOADER, HOST, JSON.stringify({ files, kind })], {
    cwd: built.dir,
    env: { PATH: process.env.PATH ?? '', ...emptyEnv(['forwarder']), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => reject(new Error(`the Pipedream stand-in exited (${code}): ${out}`)));
  });
  const run = async (spec: RunSpec) => {
    const response = await fetch(`${url}/__standin/run`, { method: 'POST', body: JSON.stringify(spec) });
    return (await response.json()) as WorkflowRun;
  };
  return {
    url,
    run,
    rerun(previous, trigger, props) {
      const asked = previous.reruns.at(-1);
      if (!asked) throw new Error('the previous run asked for no rerun');
      const { [asked.step]: _again, ...before } = previous.steps;
      const next = { runs: asked.run + 1, context: asked.context };
      return run({ trigger, props, from: asked.step, steps: before, run: next });
    },
    output: () => out,
    async close() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
