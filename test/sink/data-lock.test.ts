import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { build } from 'esbuild';
import { buildSink } from '../../scripts/build-sink.js';
import { NODE_BUNDLE } from '../../scripts/node-bundle.js';
import { LOCK_FILE, lockDataDir } from '../../sink/store/data-lock.js';
import { REPO_ROOT, sinkEnv, tempDir } from './sink-support.js';
import { waitFor } from '../support/wait-for.js';

/*
 * The data-directory lock between real processes on real files. Small processes that only take the lock and
 * report (lock-holder.ts) make the hundred races cheap; two races and a restart use the sink as `npm start`
 * runs it (its bundle under plain node).
 */

let bundles: string;
let holderJs: string;
let sinkJs: string;
let tmp: Awaited<ReturnType<typeof tempDir>>;
const lockFile = () => path.join(tmp.dir, LOCK_FILE);

beforeAll(async () => {
  // Inside the repository, so that the bundles' package imports resolve from its node_modules.
  await mkdir(path.join(REPO_ROOT, 'dist'), { recursive: true });
  bundles = await mkdtemp(path.join(REPO_ROOT, 'dist', 'lock-test-'));
  holderJs = path.join(bundles, 'lock-holder.mjs');
  const entry = path.join(REPO_ROOT, 'test', 'sink', 'lock-holder.ts');
  await build({ entryPoints: [entry], outfile: holderJs, ...NODE_BUNDLE });
  sinkJs = await buildSink(path.join(bundles, 'sink'));
  tmp = await tempDir();
}, 60_000);
/** Every process a test started: none outlives it, whatever failed. */
let started: ChildProcess[] = [];
const track = (child: ChildProcess) => (started.push(child), child);
afterEach(async () => {
  await Promise.all(started.map(kill));
  started = [];
});
afterAll(async () => {
  await rm(bundles, { recursive: true, force: true });
  await tmp.remove();
});

/** The lines a stream prints, one per call, in order; `(end)` once it has ended. */
function lineReader(stream: Readable): () => Promise<string> {
  const ready: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let partial = '';
  let ended = false;
  const deliver = (line: string) => (waiting.length > 0 ? waiting.shift()!(line) : ready.push(line));
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    parts.forEach(deliver);
  });
  stream.on('end', () => {
    ended = true;
    for (const w of waiting.splice(0)) w('(end)');
  });
  return () => {
    if (ready.length > 0) return Promise.resolve(ready.shift()!);
    if (ended) return Promise.resolve('(end)');
    return new Promise((resolve) => waiting.push(resolve));
  };
}

interface Holder {
  child: ChildProcess;
  next: () => Promise<string>;
  exited: Promise<number | null>;
}

/** `serve`: a process that takes and releases locks when told; `now`: one that takes `dir`'s and holds it. */
function startHolder(mode: 'serve' | 'now', dir = ''): Holder {
  const child = track(spawn(process.execPath, [holderJs, mode, dir], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, next: lineReader(child.stdout!), exited };
}

/** A new process told to take `dir`'s lock, and its report. */
async function takeIn(dir: string): Promise<{ holder: Holder; report: string }> {
  const holder = startHolder('serve');
  expect(await holder.next()).toBe('ready');
  holder.child.stdin!.write(`take ${dir}\n`);
  return { holder, report: await holder.next() };
}

async function finish(holder: Holder): Promise<number | null> {
  holder.child.stdin!.end();
  return holder.exited;
}

/** A process that has nothing to do with any sink, alive until killed. */
function unrelatedProcess(): ChildProcess {
  return track(spawn('sleep', ['1000'], { stdio: 'ignore' }));
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

const refusal = (dir: string) => `the data directory ${dir} is in use by another sink`;

describe('a live sink holds its data directory', () => {
  it('against every other process and this one, naming the directory and the holder, until it ends', async () => {
    const first = await takeIn(tmp.dir);
    const pid = first.holder.child.pid!;
    expect(first.report).toBe(`locked ${pid}`);
    for (let i = 0; i < 5; i++) {
      const second = await takeIn(tmp.dir);
      expect(second.report).toBe(
        `refused ${refusal(tmp.dir)} (process ${pid}); stop it first, or set SINK_DATA_DIR to another folder`,
      );
      expect(await finish(second.holder)).toBe(1);
    }
    await expect(lockDataDir(tmp.dir)).rejects.toThrow(`${refusal(tmp.dir)} (process ${pid})`);

    expect(await finish(first.holder)).toBe(0);
    const lock = await lockDataDir(tmp.dir);
    expect(await readFile(lockFile(), 'utf8')).toBe(`${process.pid}\n`);
    // Held by this process now: another is refused until it lets go.
    const third = await takeIn(tmp.dir);
    expect(third.report).toMatch(`refused ${refusal(tmp.dir)} (process ${process.pid})`);
    await finish(third.holder);
    await lock.release();
    expect(await readFile(lockFile(), 'utf8')).toBe('');
  });
});

describe('a lock left by a sink that is gone never blocks a start', () => {
  it('a holder killed with SIGKILL and not yet reaped (a zombie, its pid still taken)', async () => {
    // `exec sleep` turns the shell into the holder's parent that never waits for it: killed, it stays a zombie.
    const shell = track(
      spawn('sh', ['-c', '"$NODE" "$HOLDER" now "$DIR" & exec sleep 1000'], {
        env: { PATH: process.env.PATH, NODE: process.execPath, HOLDER: holderJs, DIR: tmp.dir },
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    try {
      const report = await lineReader(shell.stdout!)();
      const pid = Number(/^locked (\d+)$/.exec(report)?.[1]);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGKILL');
      await waitFor(() => processState(pid).startsWith('Z'), {
        what: `process ${pid} to become a zombie`,
        timeoutMs: 10_000,
        describe: () => processState(pid),
      });
      // What fooled a pid check: the file names the dead holder, and that pid still answers signal 0.
      expect(await readFile(lockFile(), 'utf8')).toBe(`${pid}\n`);
      expect(process.kill(pid, 0)).toBe(true);

      const next = await takeIn(tmp.dir);
      expect(next.report).toBe(`locked ${next.holder.child.pid}`);
      expect(await finish(next.holder)).toBe(0);
    } finally {
      await kill(shell);
    }
  });

  it('a lock file naming a pid now owned by a live, unrelated process', async () => {
    const unrelated = unrelatedProcess();
    try {
      await writeFile(lockFile(), `${unrelated.pid}\n`);
      const next = await takeIn(tmp.dir);
      expect(next.report).toBe(`locked ${next.holder.child.pid}`);
      expect(await readFile(lockFile(), 'utf8')).toBe(`${next.holder.child.pid}\n`);
      expect(await finish(next.holder)).toBe(0);
      expect(unrelated.exitCode).toBeNull(); // it was named, never touched
    } finally {
      await kill(unrelated);
    }
  });
});

/** ps's state letters for a process (Z: a zombie), empty once it is gone. */
function processState(pid: number): string {
  return spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
}

/** A stale lock of one of the kinds a crash or an earlier version leaves behind. */
async function leaveStaleLock(dir: string, trial: number, unrelatedPid: number): Promise<void> {
  const file = path.join(dir, LOCK_FILE);
  switch (trial % 4) {
    case 0: // a pid file naming a live process that is no sink
      return writeFile(file, `${unrelatedPid}\n`);
    case 1: // a pid file naming this process, alive and not the racers
      return writeFile(file, `${process.pid}\n`);
    case 2: {
      // the lock file of a holder killed with SIGKILL
      const holder = startHolder('now', dir);
      expect(await holder.next()).toBe(`locked ${holder.child.pid}`);
      holder.child.kill('SIGKILL');
      await holder.exited;
      return;
    }
    default: // half-written
      return writeFile(file, '');
  }
}

describe('two sinks started at once over a stale lock: exactly one runs', () => {
  const TRIALS = 100;

  it(`${TRIALS} races of two lock-taking processes`, async () => {
    const unrelated = unrelatedProcess();
    // Two processes that take a lock when told: each trial tells both at once, over a fresh stale lock.
    const racers = [startHolder('serve'), startHolder('serve')];
    const outcomes: string[] = [];
    try {
      for (const r of racers) expect(await r.next()).toBe('ready');
      for (let trial = 0; trial < TRIALS; trial++) {
        const dir = await mkdtemp(path.join(tmp.dir, 'race-'));
        await leaveStaleLock(dir, trial, unrelated.pid!);
        for (const r of racers) r.child.stdin!.write(`take ${dir}\n`);
        const reports = await Promise.all(racers.map((r) => r.next()));
        const won = reports.filter((r) => /^locked \d+$/.test(r)).length;
        const lost = reports.filter((r) => r.startsWith(`refused ${refusal(dir)}`)).length;
        if (won !== 1 || lost !== 1) outcomes.push(`trial ${trial}: ${reports.join(' | ')}`);
        for (const r of racers) r.child.stdin!.write('release\n');
        for (const r of racers) expect(await r.next()).toBe('released');
        await rm(dir, { recursive: true, force: true });
      }
    } finally {
      await Promise.all(racers.map(finish));
      await kill(unrelated);
    }
    expect(outcomes).toEqual([]);
  }, 120_000);

  it('two real sinks (npm start), then a restart after the winner is killed with SIGKILL', async () => {
    const unrelated = unrelatedProcess();
    try {
      for (let trial = 0; trial < 2; trial++) {
        const dir = await mkdtemp(path.join(tmp.dir, 'sinks-'));
        await writeFile(path.join(dir, LOCK_FILE), `${unrelated.pid}\n`);
        const sinks = [startSink(dir), startSink(dir)];
        const results = await Promise.all(sinks.map((s) => s.outcome));
        const running = sinks.filter((_, i) => results[i] === 'listening');
        const refused = sinks.filter((_, i) => results[i] === 'exited');
        expect(running).toHaveLength(1);
        expect(refused).toHaveLength(1);
        expect(await refused[0]!.exited).toBe(1);
        expect(refused[0]!.err()).toMatch(`sink: cannot start: ${refusal(dir)}`);

        await kill(running[0]!.child);
        const again = startSink(dir);
        expect(await again.outcome).toBe('listening');
        // One request answered: the sink is past its start, its signal handlers in place.
        expect((await fetch(`${again.url()}/ping`)).status).toBe(200);
        again.child.kill('SIGTERM');
        expect(await again.exited).toBe(0);
        expect(await readFile(path.join(dir, LOCK_FILE), 'utf8')).toBe('');
      }
    } finally {
      await kill(unrelated);
    }
  }, 60_000);
});

/** The sink's bundle under plain node, as `npm start` runs it; `outcome` says whether it listened or exited. */
function startSink(dir: string) {
  const env = sinkEnv({ SINK_DATA_DIR: dir });
  const child = track(spawn(process.execPath, [sinkJs], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  let url = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const outcome = new Promise<'listening' | 'exited'>((resolve) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^listening on (http:\/\/\S+)$/m.exec(out);
      if (m) {
        url = m[1]!;
        resolve('listening');
      }
    });
    void exited.then(() => resolve('exited'));
  });
  return { child, outcome, exited, err: () => err, url: () => url };
}
