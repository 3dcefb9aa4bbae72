import { mkdtempSync, rmSync } from 'node:fs';
import { BUILT_BASELINE } from './bundle.js';
import { join } from 'node:path';
import { checkStored, type DataCheck } from './data-check.js';
import { getLoad, postLoad, type LoadResult } from './load.js';
import { baseEnv, cpuSecondsOf, startProcess, type ServerProcess } from './processes.js';
import { median } from './stats.js';

/**
 * Sections 1 and 2: POST /receive-webhooks against each store and its minimum baseline (baseline-server.ts:
 * node:http, JSON.parse, the body kept in an array; for the file store also a durable append with group
 * commit), and GET /ping against the sink and a bare node:http server. Each run is a fresh process; a store
 * runs right beside its baseline, in alternating order round after round, so that a noisy neighbour on the
 * machine hits both alike. Figures are medians over the rounds.
 */

export type Target = 'memoryBaseline' | 'memory' | 'fileBaseline' | 'file';

export interface ThroughputOptions {
  rounds: number;
  seconds: number;
  pingSeconds: number;
  warmupSeconds: number;
  connections: number;
  workDir: string;
  /** Where the data files go: a real disk, so that a durable append pays for its sync. */
  dataRoot: string;
  sinkArgs: string[];
  log: (line: string) => void;
}

export interface RunRecord extends Omit<LoadResult, 'durationS'> {
  round: number;
  durationS: number;
  check: DataCheck | null;
  /** CPU time per answered request during the measured run: the server's (all threads), the load generator's. */
  cpu: CpuPerRequest;
}

export interface CpuPerRequest {
  serverUs: number;
  loadGeneratorUs: number;
}

export interface Series {
  runs: RunRecord[];
  rps: number;
  p50: number;
  p99: number;
  cpu: CpuPerRequest;
}

const summarise = (runs: RunRecord[]): Series => ({
  runs,
  rps: median(runs.map((r) => r.rps)),
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  cpu: {
    serverUs: median(runs.map((r) => r.cpu.serverUs)),
    loadGeneratorUs: median(runs.map((r) => r.cpu.loadGeneratorUs)),
  },
});

/**
 * Runs `load` and measures the CPU both sides spent on it per answered request. That figure moves far less
 * with the machine's load than requests per second do, and it says where the time goes: the server and the
 * load generator each run one thread on the same two cores, so the rate follows whichever of the two spends
 * more per request (docs/performance.md, "Which process sets each rate").
 */
async function measured<T extends { ok: number; non2xx: number }>(
  server: ServerProcess,
  load: () => Promise<T>,
): Promise<{ result: T; cpu: CpuPerRequest }> {
  const serverStart = cpuSecondsOf(server.pid);
  const generatorStart = process.cpuUsage();
  const result = await load();
  const generator = process.cpuUsage(generatorStart);
  const answered = Math.max(1, result.ok + result.non2xx);
  return {
    result,
    cpu: {
      serverUs: ((cpuSecondsOf(server.pid) - serverStart) * 1e6) / answered,
      loadGeneratorUs: (generator.user + generator.system) / answered,
    },
  };
}

export function startSinkProcess(options: {
  store: 'file' | 'memory';
  dataDir: string;
  workDir: string;
  args: string[];
  env?: Record<string, string>;
}): Promise<ServerProcess> {
  const sink = { SINK_HOST: '127.0.0.1', SINK_PORT: '0', SINK_DATA_DIR: options.dataDir, SINK_STORE: options.store };
  return startProcess({
    name: `sink-${options.store}`,
    args: options.args,
    env: { ...baseEnv(), ...sink, ...options.env },
    logDir: options.workDir,
  });
}

/** The baseline server: `store` says what it does with a POST body (baseline-server.ts). */
export function startBaseline(
  workDir: string,
  store: 'memory' | 'file' = 'memory',
  dataDir = '',
): Promise<ServerProcess> {
  const env = { ...baseEnv(), BASELINE_STORE: store, BASELINE_DATA_DIR: dataDir };
  return startProcess({ name: `baseline-${store}`, args: BUILT_BASELINE, env, logDir: workDir });
}

function startTarget(target: Target, dataDir: string, o: ThroughputOptions): Promise<ServerProcess> {
  if (target === 'memoryBaseline') return startBaseline(o.workDir, 'memory');
  if (target === 'fileBaseline') return startBaseline(o.workDir, 'file', dataDir);
  return startSinkProcess({ store: target, dataDir, workDir: o.workDir, args: o.sinkArgs });
}

const isBaseline = (target: Target) => target === 'memoryBaseline' || target === 'fileBaseline';

const cpuText = (cpu: CpuPerRequest) =>
  `CPU per request: server ${cpu.serverUs.toFixed(1)} µs, load generator ${cpu.loadGeneratorUs.toFixed(1)} µs`;
const rateText = (run: LoadResult) => `${Math.round(run.rps)} req/s  p50 ${run.p50} ms  p99 ${run.p99} ms`;

async function postRun(target: Target, round: number, o: ThroughputOptions): Promise<RunRecord> {
  const dataDir = mkdtempSync(join(o.dataRoot, `data-${target}-`));
  const server = await startTarget(target, dataDir, o);
  try {
    const load = { connections: o.connections };
    const warm = await postLoad(server.url, { ...load, seconds: o.warmupSeconds });
    const { result: run, cpu } = await measured(server, () => postLoad(server.url, { ...load, seconds: o.seconds }));
    const check = isBaseline(target) ? null : await checkStored(server.url, [warm, run], o.connections);
    const { ackedKeys: _a, prepared: _p, ...figures } = run;
    const record: RunRecord = { round, ...figures, check, cpu };
    o.log(
      `  round ${round} POST ${target.padEnd(14)} ${rateText(run)}  ${cpuText(cpu)}` +
        (run.non2xx || run.errors ? `  non-2xx ${run.non2xx} errors ${run.errors}` : '') +
        (check
          ? `  data check: ${check.ok ? 'ok' : 'FAILED'} (${check.acked} acknowledged incl. warm-up, ` +
            `${check.stored} stored, ${check.inFlightAtStop} in flight at stop)`
          : ''),
    );
    if (check && !check.ok) for (const p of check.problems) o.log(`    ${p}`);
    return record;
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function pingRun(target: 'baseline' | 'sink', round: number, o: ThroughputOptions): Promise<RunRecord> {
  const dataDir = mkdtempSync(join(o.workDir, 'data-ping-'));
  const server =
    target === 'baseline'
      ? await startBaseline(o.workDir)
      : await startSinkProcess({ store: 'file', dataDir, workDir: o.workDir, args: o.sinkArgs });
  try {
    await getLoad(server.url, '/ping', { connections: o.connections, seconds: o.warmupSeconds });
    const load = { connections: o.connections, seconds: o.pingSeconds };
    const { result: run, cpu } = await measured(server, () => getLoad(server.url, '/ping', load));
    o.log(`  round ${round} GET /ping ${target.padEnd(8)} ${rateText(run)}  ${cpuText(cpu)}`);
    return { round, ...run, check: null, cpu };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export interface ThroughputResult {
  post: Record<Target, Series>;
  ping: { baseline: Series; sink: Series };
  /**
   * Median over the rounds of each round's ratio to that round's baseline: a store and its baseline run one
   * after the other, so a neighbour's load weighs on them alike.
   */
  ratios: { file: number; memory: number; ping: number };
}

const roundRatios = (runs: RunRecord[], base: RunRecord[]) =>
  median(runs.map((r) => r.rps / base.find((b) => b.round === r.round)!.rps));

const rotate = <T>(items: T[], by: number): T[] => items.map((_, i) => items[(i + by) % items.length]!);

export async function benchThroughput(o: ThroughputOptions): Promise<ThroughputResult> {
  const post: Record<Target, RunRecord[]> = { memoryBaseline: [], memory: [], fileBaseline: [], file: [] };
  const ping: Record<'baseline' | 'sink', RunRecord[]> = { baseline: [], sink: [] };
  // The load generator's own code is compiled on its first runs: warm it up on a baseline nobody measures,
  // or the first server of round 1 would pay for it.
  const warm = await startBaseline(o.workDir, 'memory');
  try {
    await postLoad(warm.url, { connections: o.connections, seconds: 2 * o.warmupSeconds });
    await getLoad(warm.url, '/ping', { connections: o.connections, seconds: o.warmupSeconds });
  } finally {
    await warm.stop();
  }
  for (let round = 1; round <= o.rounds; round++) {
    // Each store beside its baseline; which pair goes first, and which of a pair, alternate from round to round.
    const pairs = rotate<[Target, Target]>(
      [
        ['memoryBaseline', 'memory'],
        ['fileBaseline', 'file'],
      ],
      round - 1,
    );
    for (const pair of pairs) {
      for (const target of round % 2 ? pair : [...pair].reverse()) post[target].push(await postRun(target, round, o));
    }
    for (const target of rotate<'baseline' | 'sink'>(['baseline', 'sink'], round - 1)) {
      ping[target].push(await pingRun(target, round, o));
    }
  }
  return {
    post: {
      memoryBaseline: summarise(post.memoryBaseline),
      memory: summarise(post.memory),
      fileBaseline: summarise(post.fileBaseline),
      file: summarise(post.file),
    },
    ping: { baseline: summarise(ping.baseline), sink: summarise(ping.sink) },
    ratios: {
      file: roundRatios(post.file, post.fileBaseline),
      memory: roundRatios(post.memory, post.memoryBaseline),
      ping: roundRatios(ping.sink, ping.baseline),
    },
  };
}
