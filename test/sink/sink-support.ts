/** Support for the sink's tests: configurations, in-process and spawned sinks on loopback, a raw HTTP client. */
import { expect } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SinkConfig } from '../../shared/config.js';
import { emptyEnv } from '../../shared/env.js';
import { startSink, type RunningSink, type StartOptions } from '../../sink/start.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sink-test-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function sinkConfig(overrides: Partial<SinkConfig> = {}): SinkConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    dataDir: path.join(os.tmpdir(), 'sink-test-unused'),
    store: 'file',
    maxBytes: 256 * 1024 * 1024,
    maxBodyBytes: 1024 * 1024,
    hook: null,
    maxEventStreams: 256,
    auth: null,
    ngrok: null,
    allowedHosts: [],
    maxConnections: 256,
    maxFailedLogins: 10,
    ...overrides,
  };
}

export interface TestSink extends RunningSink {
  lines: string[];
  warnings: string[];
}

export async function startTestSink(overrides: Partial<SinkConfig>, options: StartOptions = {}): Promise<TestSink> {
  const lines: string[] = [];
  const warnings: string[] = [];
  const sink = await startSink(sinkConfig(overrides), {
    log: (l) => lines.push(l),
    warn: (l) => warnings.push(l),
    ...options,
  });
  return Object.assign(sink, { lines, warnings });
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP exchange with node:http, body bytes as sent and as received. */
export function call(
  base: string,
  pathAndQuery: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${pathAndQuery}`,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body,
            text: body.toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export const post = (base: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  call(base, '/receive-webhooks', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });

export const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** The lines of a dump, without the final count line, and the count. */
export function dumpLines(text: string): { lines: string[]; count: number } {
  const all = text.split('\n');
  expect(all.pop()).toBe('');
  const last = all.pop()!;
  const m = /^\{"number_webhooks_received": (\d+)\}$/.exec(last);
  if (!m) throw new Error(`the dump does not end with its count line: ${last}`);
  return { lines: all, count: Number(m[1]) };
}

// ---- the real entry point, spawned ----

export interface SpawnedSink {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  /** Sends `signal` and resolves with the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Every sink variable set (empty when unused), so a developer's .env or shell cannot leak in. */
export function sinkEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...emptyEnv(['sink']),
    SINK_HOST: '127.0.0.1',
    SINK_PORT: '0',
    ...vars,
  };
}

export function runSink(vars: Record<string, string>): {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'sink/main.ts'], {
    cwd: REPO_ROOT,
    env: sinkEnv(vars),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, out: () => out, err: () => err, exited };
}

export async function spawnSink(vars: Record<string, string>): Promise<SpawnedSink> {
  const run = runSink(vars);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`no "listening on" line within 20 s\nstdout: ${run.out()}\nstderr: ${run.err()}`));
    }, 20_000);
    const check = () => {
      const m = /^listening on (http:\/\/\S+)$/m.exec(run.out());
      if (m) {
        clearTimeout(timer);
        run.child.stdout!.off('data', check);
        resolve(m[1]!);
      }
    };
    run.child.stdout!.on('data', check);
    void run.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the sink exited (${code}) before listening\nstdout: ${run.out()}\nstderr: ${run.err()}`));
    });
  });
  return {
    child: run.child,
    url,
    stdout: run.out,
    stderr: run.err,
    stop: async (signal = 'SIGTERM') => {
      if (run.child.exitCode !== null || run.child.signalCode !== null) return run.child.exitCode;
      run.child.kill(signal);
      const timer = setTimeout(() => run.child.kill('SIGKILL'), 10_000);
      const code = await run.exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export function destroyAgent(): void {
  agent.destroy();
}
