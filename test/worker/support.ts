import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { miniflareOptions, wakeOutbox } from '../../forwarder/worker/miniflare.js';
import { buildWorker, WORKER_DIST } from '../../scripts/build-worker.js';

/** The Worker in workerd through Miniflare, on an ephemeral loopback port, built once per test file. */

export interface RunningWorker {
  url: string;
  mf: Miniflare;
  /** Runs it with other settings (workerd restarts; the outbox stays where it is kept). */
  reconfigure(bindings: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export async function buildWorkerOnce(): Promise<{ scriptPath: string; dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'worker-test-'));
  const scriptPath = await buildWorker(join(dir, 'dist'));
  return { scriptPath, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Builds the Worker where `npm run worker` (scripts/worker.ts) runs it from, dist/worker/worker.mjs, for the tests
 * that start that entry point. Built beside it and renamed into place, so test files building at the same time
 * never read a half-written file.
 */
export async function buildWorkerForEntry(): Promise<void> {
  await mkdir(WORKER_DIST, { recursive: true });
  const dir = await mkdtemp(join(WORKER_DIST, '.build-'));
  try {
    await rename(await buildWorker(dir), join(WORKER_DIST, 'worker.mjs'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function startWorker(
  scriptPath: string,
  bindings: Record<string, string>,
  persistDir: string | null = null,
): Promise<RunningWorker> {
  const options = (b: Record<string, string>) => miniflareOptions({ scriptPath, bindings: b, persistDir, port: 0 });
  const mf = new Miniflare(options(bindings));
  // A runtime that failed to start is still a process to end, or jest never exits.
  const ready = await mf.ready.catch(async (error: unknown) => {
    await mf.dispose();
    throw error;
  });
  const worker: RunningWorker = {
    url: ready.origin,
    mf,
    reconfigure: async (b) => {
      await mf.setOptions(options(b));
      worker.url = (await mf.ready).origin;
    },
    close: () => mf.dispose(),
  };
  await wakeOutbox(mf);
  return worker;
}

export interface OutboxView {
  waiting: number;
  failed: number;
  delivered: number;
  sink: { away: boolean; since: string | null; cause: string | null; nextTryAt: string | null };
  deliveries: {
    seq: number;
    state: 'waiting' | 'failed';
    messageId: string | null;
    attempts: number;
    lastTryAt: string | null;
    nextTryAt: string | null;
    cause: string | null;
  }[];
}

export async function outbox(url: string, auth: { user: string; pass: string }): Promise<OutboxView> {
  const response = await fetch(`${url}/outbox`, {
    headers: { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString('base64')}` },
  });
  if (response.status !== 200) throw new Error(`GET /outbox answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as OutboxView;
}

/** Polls `check` until it holds (the outbox works on its own alarm; there is no event to wait on from here). */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
