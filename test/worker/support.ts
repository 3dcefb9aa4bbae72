import { afterAll, beforeAll } from '@jest/globals';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { miniflareOptions, wakeOutbox } from '../../forwarder/worker/miniflare.js';
import { buildWorker, WORKER_DIST } from '../../scripts/build-worker.js';
import type { StubSink } from '../forwarder/stub-sink.js';

/** The Worker in workerd through Miniflare, on an ephemeral loopback port, built once per test file. */

export interface RunningWorker {
  url: string;
  mf: Miniflare;
  /** The lines workerd printed: the outbox's line per delivery. */
  lines: string[];
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
  const lines: string[] = [];
  const onLine = (line: string) => lines.push(line);
  const options = (b: Record<string, string>) =>
    miniflareOptions({ scriptPath, bindings: b, persistDir, port: 0, onLine });
  const mf = new Miniflare(options(bindings));
  // A runtime that failed to start is still a process to end, or jest never exits.
  const ready = await mf.ready.catch(async (error: unknown) => {
    await mf.dispose();
    throw error;
  });
  const worker: RunningWorker = {
    url: ready.origin,
    mf,
    lines,
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
  aside: number;
  waitingBytes: number;
  next: number | null;
  failed: number;
  delivered: number;
  sink: { away: boolean; since: string | null; cause: string | null; nextTryAt: string | null };
  deliveries: {
    seq: number;
    state: 'waiting' | 'aside' | 'failed';
    messageId: string | null;
    attempts: number;
    refusals: number;
    signed: boolean;
    lastTryAt: string | null;
    nextTryAt: string | null;
    cause: string | null;
  }[];
}

export const basic = (auth: { user: string; pass: string }) =>
  `Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString('base64')}`;

/** `GET /outbox`, with a query (`state=failed&after=10&limit=5`) when given. */
export async function outbox(url: string, auth: { user: string; pass: string }, query = ''): Promise<OutboxView> {
  const response = await fetch(`${url}/outbox${query ? `?${query}` : ''}`, { headers: { authorization: basic(auth) } });
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

export interface WorkerFixture {
  /** The Worker's bundle, built once for the file. */
  scriptPath: string;
  /** A temporary folder for outbox storage, removed at the end. */
  dataDir: string;
  /** Waits for `thing` and closes it after the file's tests, unless `stop` closed it first. */
  started<T extends { close(): Promise<void> }>(thing: Promise<T>): Promise<T>;
  stop(thing: { close(): Promise<void> }): Promise<void>;
  /** The sink's credentials and the Worker's settings (delivering to `sinkUrl`, one attempt, short delays). */
  settings(sinkUrl: string, more?: Record<string, string>): Record<string, string>;
}

export const AUTH = { user: 'relay-user', pass: 'sink-pass-Hn4v-TOPSECRET' };

/** A test file's Worker: built in beforeAll, with everything it started closed and removed in afterAll. */
export function workerFixture(prefix: string, secret: string): WorkerFixture {
  const open: { close(): Promise<void> }[] = [];
  let built: Awaited<ReturnType<typeof buildWorkerOnce>> | undefined;
  const fixture: WorkerFixture = {
    scriptPath: '',
    dataDir: '',
    started: async (thing) => {
      const value = await thing;
      open.push(value);
      return value;
    },
    stop: async (thing) => {
      open.splice(open.indexOf(thing), 1);
      await thing.close();
    },
    settings: (sinkUrl, more = {}) => ({
      UP42_WEBHOOK_SECRET: secret,
      SINK_URL: sinkUrl,
      SINK_BASIC_AUTH_USER: AUTH.user,
      SINK_BASIC_AUTH_PASS: AUTH.pass,
      FORWARD_MAX_ATTEMPTS: '1',
      FORWARD_DEADLINE_MS: '2000',
      FORWARD_PARK_DELAYS: '1,1,2',
      ...more,
    }),
  };
  beforeAll(async () => {
    built = await buildWorkerOnce();
    fixture.scriptPath = built.scriptPath;
    fixture.dataDir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    for (const thing of open.reverse()) await thing.close();
    await built?.cleanup();
    if (fixture.dataDir) await rm(fixture.dataDir, { recursive: true, force: true });
  });
  return fixture;
}

/** The messageIds the stub sink was sent, in the order it received them (tries included). */
export const receivedIds = (sink: StubSink) =>
  sink.requests
    .filter((r) => r.path === '/receive-webhooks')
    .map((r) => (JSON.parse(r.body) as { messageId: string }).messageId);
