import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { emptyEnv } from '../shared/env.js';

/**
 * Servers under test run in their own process, never in the benchmark's: the load generator must not share
 * an event loop (or a heap) with what it measures. Their stdout and stderr go to files, not to pipes the
 * benchmark would have to drain, and the benchmark finds the port in the `listening on <url>` line.
 */

export const REPO_ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** Spawn to the first answered GET /ping (or to the `listening on` line), in ms. */
  readyMs: number;
  logPath: string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  /** Arguments to node: ['--import', 'tsx', 'sink/main.ts'] or ['dist/bench/sink.mjs']. */
  args: string[];
  env: Record<string, string>;
  /** Folder for the process's stdout/stderr files. */
  logDir: string;
  timeoutMs?: number;
  /** Ready when GET /ping answers 200 (the default), or as soon as it prints where it listens. */
  ready?: 'ping' | 'listening';
}

/**
 * Every variable of the sink and the forwarder set empty, so that a developer's .env (which the servers read
 * from the folder they start in, this checkout) cannot change what is measured; a store large enough for
 * every run on top.
 */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { ...emptyEnv(['sink', 'forwarder']), SINK_MAX_BYTES: '4G' };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG'])
    if (process.env[name] !== undefined) env[name] = process.env[name]!;
  return env;
}

let spawned = 0;

export async function startProcess(options: SpawnOptions): Promise<ServerProcess> {
  spawned += 1;
  const logPath = join(options.logDir, `${options.name}-${spawned}.out`);
  const errPath = join(options.logDir, `${options.name}-${spawned}.err`);
  const out = openSync(logPath, 'w');
  const err = openSync(errPath, 'w');
  const started = performance.now();
  // BENCH_CPU_PROF=<dir>: every server under test writes V8 CPU profiles when it stops, into a folder of its own
  // (<dir>/<name>-<n>/), one per thread under Node's own names: a fixed file name would let a second thread's
  // profile (tsx's loader) overwrite the main thread's.
  const profDir = process.env.BENCH_CPU_PROF;
  const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profDir, `${options.name}-${spawned}`)}`] : [];
  const child = spawn(process.execPath, [...prof, ...options.args], {
    cwd: REPO_ROOT,
    env: options.env,
    stdio: ['ignore', out, err],
  });
  closeSync(out);
  closeSync(err);
  let exited: number | string | null = null;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? signal ?? 'exit';
      resolve();
    }),
  );
  const stop = async () => {
    if (exited === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(killer);
    }
  };
  try {
    const url = await waitForUrl(logPath, () => exited, errPath, options.timeoutMs ?? 30_000);
    if (options.ready !== 'listening') await waitForPing(url, options.timeoutMs ?? 30_000);
    return { name: options.name, url, pid: child.pid!, readyMs: performance.now() - started, logPath, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForUrl(path: string, exited: () => unknown, errPath: string, timeoutMs: number): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const match = /listening on (http:\/\/\S+)/.exec(readFileSync(path, 'utf8'));
    if (match) return match[1]!;
    if (exited() !== null)
      throw new Error(
        `the process exited (${String(exited())}) before listening: ${readFileSync(errPath, 'utf8').slice(0, 2000)}`,
      );
    if (performance.now() > deadline) throw new Error(`no "listening on" line within ${timeoutMs} ms`);
    await sleep(2);
  }
}

export function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if ((await httpGet(`${url}/ping`)).status === 200) return;
    } catch {
      // not accepting yet
    }
    if (performance.now() > deadline) throw new Error(`${url}/ping did not answer within ${timeoutMs} ms`);
    await sleep(2);
  }
}

export interface MemoryStatus {
  /** Resident set size now, bytes. */
  rss: number;
  /** Peak resident set size since start or since resetPeak(), bytes. */
  peak: number;
}

/** From /proc/<pid>/status (Linux). */
export function memoryOf(pid: number): MemoryStatus {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * CPU seconds the process has used, all its threads, user and system (Linux: /proc/<pid>/stat, in clock ticks
 * of USER_HZ, which the kernel fixes at 100 for user space).
 */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resets VmHWM to the current RSS (Linux: writing 5 to clear_refs), so a later peak belongs to what ran since. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
