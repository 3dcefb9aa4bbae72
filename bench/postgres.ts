import { performance } from 'node:perf_hooks';
import { startPostgres, type PostgresServer } from './postgres-server.js';
import { checkStored, readEnvelopes, type DataCheck } from './data-check.js';
import { postLoad, type PostLoadResult } from './load.js';
import { baseEnv, startProcess, type ServerProcess } from './processes.js';

/**
 * The PostgreSQL store under the same POST load as the others: a throwaway PostgreSQL server on this machine
 * (fsync on, its data on the real disk, as the tests start it), one sink on it, then two sinks sharing one
 * database with the connections split between them. Every run is checked like the others: each 200 stored,
 * keys 1..N across both sinks. Then a dump of everything stored, streamed from the table.
 */
export interface PostgresRun {
  rps: number;
  p50: number;
  p99: number;
  check: DataCheck;
}

export type PostgresFigures =
  | { measured: true; oneSink: PostgresRun; twoSinks: PostgresRun; dump: { records: number; ms: number } }
  | { measured: false; reason: string };

export interface PostgresOptions {
  seconds: number;
  warmupSeconds: number;
  connections: number;
  workDir: string;
  sinkArgs: string[];
  log: (line: string) => void;
}

function startSink(url: string, o: PostgresOptions, name: string): Promise<ServerProcess> {
  const env = { ...baseEnv(), SINK_HOST: '127.0.0.1', SINK_PORT: '0', SINK_STORE: 'postgres', SINK_DATABASE_URL: url };
  return startProcess({ name, args: o.sinkArgs, env, logDir: o.workDir });
}

const figures = (runs: PostLoadResult[], check: DataCheck): PostgresRun => ({
  rps: runs.reduce((n, r) => n + r.rps, 0),
  p50: Math.max(...runs.map((r) => r.p50)),
  p99: Math.max(...runs.map((r) => r.p99)),
  check,
});

async function oneSink(server: PostgresServer, o: PostgresOptions): Promise<PostgresRun> {
  const sink = await startSink(await server.createDatabase('bench_one'), o, 'sink-postgres');
  try {
    const warm = await postLoad(sink.url, { connections: o.connections, seconds: o.warmupSeconds });
    const run = await postLoad(sink.url, { connections: o.connections, seconds: o.seconds });
    return figures([run], await checkStored(sink.url, [warm, run], o.connections));
  } finally {
    await sink.stop();
  }
}

async function twoSinks(
  server: PostgresServer,
  o: PostgresOptions,
): Promise<{ run: PostgresRun; dump: { records: number; ms: number } }> {
  const url = await server.createDatabase('bench_two');
  const sinks = await Promise.all([startSink(url, o, 'sink-postgres-a'), startSink(url, o, 'sink-postgres-b')]);
  try {
    const half = Math.max(1, Math.floor(o.connections / 2));
    const warm = await Promise.all(sinks.map((s) => postLoad(s.url, { connections: half, seconds: o.warmupSeconds })));
    const runs = await Promise.all(sinks.map((s) => postLoad(s.url, { connections: half, seconds: o.seconds })));
    const check = await checkStored(sinks[0]!.url, [...warm, ...runs], half);
    const started = performance.now();
    const { lines } = await readEnvelopes(sinks[1]!.url);
    const dump = { records: lines.length, ms: performance.now() - started };
    return { run: figures(runs, check), dump };
  } finally {
    await Promise.all(sinks.map((s) => s.stop()));
  }
}

export async function benchPostgres(o: PostgresOptions): Promise<PostgresFigures> {
  let server: PostgresServer;
  try {
    server = await startPostgres();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    o.log(`  PostgreSQL store not measured: ${reason}`);
    return { measured: false, reason };
  }
  try {
    const one = await oneSink(server, o);
    o.log(
      `  POST postgres, 1 sink: ${Math.round(one.rps)} req/s  p50 ${one.p50} ms  p99 ${one.p99} ms  ` +
        `data check ${one.check.ok ? 'ok' : 'FAILED'}`,
    );
    const two = await twoSinks(server, o);
    o.log(
      `  POST postgres, 2 sinks: ${Math.round(two.run.rps)} req/s together  p99 ${two.run.p99} ms  ` +
        `data check ${two.run.check.ok ? 'ok' : 'FAILED'}; ` +
        `dump of ${two.dump.records} in ${Math.round(two.dump.ms)} ms`,
    );
    for (const p of [...one.check.problems, ...two.run.check.problems]) o.log(`    ${p}`);
    return { measured: true, oneSink: one, twoSinks: two.run, dump: two.dump };
  } finally {
    await server.stop();
  }
}
