/**
 * A throwaway PostgreSQL server for the tests: initdb into a temporary folder, the server on a free port of
 * 127.0.0.1, stopped (and the folder removed) by stop(). PostgreSQL refuses to run as root, so when the tests
 * run as root the server runs as the unprivileged `postgres` user through runuser. The server is started
 * under a shell that stops it as soon as its stdin closes, which happens when this process ends in any way,
 * and then removes the folder: no server and no folder outlive the test run. Without the server binaries
 * this throws a clear error: the PostgreSQL tests fail, they are never silently skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../support/ports.js';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/DB (trust authentication on loopback). */
  url(database?: string): string;
  port: number;
  /** A new empty database, for one test or one group of tests. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown) keeping its data; start() brings it back on the same port. */
  halt(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/** The newest PostgreSQL server binaries on this machine (Debian's layout), or a clear error. */
export function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const bin = path.join(root, v, 'bin');
    if (existsSync(path.join(bin, 'postgres')) && existsSync(path.join(bin, 'initdb'))) return bin;
  }
  throw new Error(
    'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: the PostgreSQL store tests need them ' +
      '(Debian/Ubuntu: apt-get install postgresql)',
  );
}

const asRoot = process.getuid?.() === 0;

/** The command as the `postgres` user when we are root (PostgreSQL will not run as root). */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function ownedByServerUser(dir: string): void {
  if (!asRoot) return;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  chownSync(dir, id('-u'), id('-g'));
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sink-pg-'));
  ownedByServerUser(dir);
  const data = path.join(dir, 'data');
  const [initCmd, initArgs] = asServerUser(path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
    '--no-instructions',
  ]);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr || init.error?.message}`);
  }
  const port = await freePort();
  let child: ChildProcess | null = null;
  let log = '';

  const start = async () => {
    // `read` returns when our end of stdin closes (this process ended, or halt() or stop()): the server is
    // then stopped, and its folder removed unless halt() said `keep` (it is started again on the same data).
    const script =
      `"${path.join(bin, 'postgres')}" -D "${data}" -p ${port} -c listen_addresses=127.0.0.1 ` +
      `-c unix_socket_directories="${dir}" -c max_connections=200 -c fsync=on & ` +
      `pid=$!; read cmd; kill -INT $pid; wait $pid; [ "$cmd" = keep ] || rm -rf "${dir}"`;
    const [cmd, args] = asServerUser('sh', ['-c', script]);
    const proc = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    child = proc;
    log = '';
    await new Promise<void>((resolve, reject) => {
      proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
        log += d;
        if (log.includes('database system is ready to accept connections')) resolve();
      });
      proc.on('exit', (code) => reject(new Error(`PostgreSQL exited (${code}) before it was ready:\n${log}`)));
    }).catch((err: unknown) => {
      proc.stdin!.end(); // the shell waits on its stdin even when the server could not start
      throw err;
    });
  };

  const shutDown = async (keep: boolean) => {
    const proc = child;
    child = null;
    if (proc === null || proc.exitCode !== null) return;
    const exited = once(proc, 'exit');
    proc.stdin!.end(keep ? 'keep\n' : '');
    await exited;
  };

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  await start();
  return {
    url,
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    halt: () => shutDown(true),
    start,
    async stop() {
      await shutDown(false);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
