/**
 * Support for the end-to-end tests: the project's entry points as real processes on loopback, and a small
 * HTTP client for the sink's public interface. Nothing here reaches into the processes it starts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { request } from 'undici';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const TSX_LOADER = pathToFileURL(join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface Proc {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far, in arrival order. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects with the output after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code once the process (and its pipes) are gone. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` (to the whole process group when started as a group) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function track(child: ChildProcess, group: boolean): Proc {
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const w of [...waiters]) w();
  });
  const kill = (signal: NodeJS.Signals) => {
    if (gone) return;
    try {
      if (group && child.pid !== undefined) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      // already gone
    }
  };
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((done, failed) => {
        const check = () => {
          const match = pattern.exec(out);
          if (match) {
            finish();
            done(match);
          } else if (gone) {
            finish();
            failed(new Error(`the process exited before printing ${pattern}; its output:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          failed(new Error(`no ${pattern} within ${timeoutMs} ms; output so far:\n${out}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      kill(signal);
      const timer = setTimeout(() => kill('SIGKILL'), 10_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * A TypeScript entry point of the repository as its own Node process, the way `npm start` and friends run it.
 * The working directory is `cwd` (an empty temporary folder, so no developer's .env is read) and the
 * environment holds PATH and `env` only.
 */
export function spawnEntry(
  entry: string,
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
  /** In a process group of its own, so `stop` (even SIGKILL) reaches its children too (workerd). */
  group = false,
): Proc {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, join(REPO_ROOT, entry), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
  return track(child, group);
}

/**
 * `npm run worker`'s entry point (scripts/worker.ts, the Worker in workerd; build it first with
 * buildWorkerForEntry) on an ephemeral port, its outbox in `dataDir`, with the forwarder's variables `env`.
 */
export function spawnWorker(env: Record<string, string>, dataDir: string, cwd: string): Proc {
  return spawnEntry('scripts/worker.ts', [], { WORKER_PORT: '0', WORKER_DATA_DIR: dataDir, ...env }, cwd, true);
}

/** A shell command line run by bash in its own process group (so `stop` reaches npm's children too). */
export function spawnShell(command: string, env: Record<string, string>, cwd: string): Proc {
  const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return track(child, true);
}

/** The `listening on http://127.0.0.1:PORT` line the sink and the Worker print, as a URL and a port. */
export async function listeningOn(proc: Proc): Promise<{ url: string; port: number }> {
  const match = await proc.waitFor(/listening on (http:\/\/127\.0\.0\.1:(\d+))/);
  return { url: match[1]!, port: Number(match[2]) };
}

export interface Reply {
  status: number;
  text: string;
  json: unknown;
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

export async function http(
  url: string,
  options: {
    method?: 'GET' | 'POST' | 'DELETE';
    headers?: Record<string, string>;
    body?: string;
    auth?: { user: string; pass: string };
  } = {},
): Promise<Reply> {
  const headers = { ...options.headers };
  if (options.auth)
    headers.authorization = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.pass}`).toString('base64')}`;
  const res = await request(url, {
    method: options.method ?? 'GET',
    headers,
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const text = await res.body.text();
  return { status: res.statusCode, text, json: parseJson(text) };
}

/** GET /dump-webhooks: the stored body lines and the closing count line, checked to agree. */
export async function dump(
  sinkUrl: string,
  auth: { user: string; pass: string },
  query = '',
): Promise<{ lines: string[]; count: number }> {
  const reply = await http(`${sinkUrl}/dump-webhooks${query}`, { auth });
  if (reply.status !== 200) throw new Error(`dump answered ${reply.status}: ${reply.text}`);
  const lines = reply.text.split('\n');
  if (lines.pop() !== '') throw new Error('the dump does not end with a newline');
  const last = JSON.parse(lines.pop() ?? 'null') as { number_webhooks_received?: unknown } | null;
  if (typeof last?.number_webhooks_received !== 'number')
    throw new Error(`the dump has no count line: ${reply.text.slice(-200)}`);
  if (last.number_webhooks_received !== lines.length)
    throw new Error(`the dump counts ${last.number_webhooks_received} but has ${lines.length} lines`);
  return { lines, count: lines.length };
}

export interface Envelope {
  key: number;
  messageId: string | null;
  event: string | null;
  status: string | null;
  liveMode: boolean | null;
  body: unknown;
}

export async function envelopes(sinkUrl: string, auth: { user: string; pass: string }): Promise<Envelope[]> {
  const { lines } = await dump(sinkUrl, auth, '?envelope=true');
  return lines.map((line) => JSON.parse(line) as Envelope);
}
