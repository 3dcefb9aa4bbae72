import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { openFileStore } from '../sink/store/file-store.js';
import { checkStored, type DataCheck } from './data-check.js';
import { postLoad } from './load.js';
import { memoryOf, resetPeak, type ServerProcess } from './processes.js';
import { seedFileStore } from './seed.js';
import { median } from './stats.js';
import { startSinkProcess } from './throughput.js';

/**
 * Sections 3 to 5: the dump of a large store, start-up on it, and the sink's resident memory. The stores are
 * seeded straight to disk (seed.ts), then a real sink process is started on them.
 */

export interface DumpRun {
  ms: number;
  /** RSS when the dump started, and the peak RSS during it (VmHWM reset just before). */
  rssBefore: number;
  peak: number;
  /** peak - rssBefore: the memory the dump itself took. */
  growth: number;
}

/** The median of DUMP_REPEATS measured dumps (time and growth each), and every run. */
export interface DumpFigure {
  records: number;
  bytes: number;
  ms: number;
  growth: number;
  runs: DumpRun[];
}

/**
 * Measured dumps per store. V8 enlarges its young generation once, to a fixed ceiling, after enough objects
 * have survived its collections; a dump's short-lived objects sometimes tip it, and that one-time growth
 * then lands in whichever dump is running (docs/performance.md, "How much a run moves"). The median of three
 * leaves it out; a dump that held what it streams would grow in every one of them.
 */
const DUMP_REPEATS = 3;

export interface StoreFigures {
  records: number;
  dataBytes: number;
  /** openFileStore on the seeded file, in this process: replay and index, nothing else. Median of runs. */
  replayInProcessMs: number;
  /** Spawn to the first answered /ping, empty store and seeded store: medians. */
  startEmptyMs: number;
  startSeededMs: number;
  dumpSmall: DumpFigure;
  dumpLarge: DumpFigure;
  /** RSS of a fresh sink with an empty store after a few requests, and of one holding `records`. */
  rssIdle: number;
  rssHolding: number;
}

/** Streams the whole dump, counting bytes; keeps nothing. */
function streamDump(url: string): Promise<{ bytes: number; lines: number }> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let lines = 0;
    const req = request(`${url}/dump-webhooks`, { agent: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`dump answered ${res.statusCode}`));
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        let i = -1;
        while ((i = chunk.indexOf(10, i + 1)) !== -1) lines += 1;
      });
      res.on('end', () => resolve({ bytes, lines }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Settles the process (GC runs when idle), then reads its RSS. */
async function settledRss(pid: number): Promise<number> {
  await sleep(1500);
  return memoryOf(pid).rss;
}

async function dumpFigure(sink: ServerProcess, records: number): Promise<DumpFigure> {
  // One dump first: the code paths are compiled and the file is in the page cache for the measured ones.
  await streamDump(sink.url);
  const runs: DumpRun[] = [];
  let bytes = 0;
  for (let i = 0; i < DUMP_REPEATS; i++) {
    await sleep(500);
    const rssBefore = memoryOf(sink.pid).rss;
    if (!resetPeak(sink.pid)) throw new Error('cannot reset the peak RSS (/proc/<pid>/clear_refs)');
    const started = performance.now();
    const dumped = await streamDump(sink.url);
    const ms = performance.now() - started;
    if (dumped.lines !== records + 1) throw new Error(`the dump had ${dumped.lines} lines, ${records + 1} expected`);
    const peak = memoryOf(sink.pid).peak;
    runs.push({ ms, rssBefore, peak, growth: peak - rssBefore });
    bytes = dumped.bytes;
  }
  return { records, bytes, ms: median(runs.map((r) => r.ms)), growth: median(runs.map((r) => r.growth)), runs };
}

export interface StoreOptions {
  records: number;
  smallRecords: number;
  startRuns: number;
  workDir: string;
  /** Where the stores live: a real disk, as in use. */
  dataRoot: string;
  sinkArgs: string[];
  log: (line: string) => void;
}

export async function benchStore(o: StoreOptions): Promise<StoreFigures> {
  const seeded = mkdtempSync(join(o.dataRoot, 'seed-large-'));
  const small = mkdtempSync(join(o.dataRoot, 'seed-small-'));
  const empty = mkdtempSync(join(o.dataRoot, 'empty-'));
  try {
    const dataBytes = seedFileStore(seeded, o.records);
    seedFileStore(small, o.smallRecords);
    o.log(`  seeded ${o.records} webhooks (${(dataBytes / 1024 / 1024).toFixed(1)} MiB) and ${o.smallRecords}`);

    const replays: number[] = [];
    for (let i = 0; i < o.startRuns; i++) {
      const copy = mkdtempSync(join(o.dataRoot, 'replay-'));
      cpSync(seeded, copy, { recursive: true });
      const started = performance.now();
      const store = await openFileStore({ dataDir: copy, maxBytes: 4 * 1024 ** 3 });
      replays.push(performance.now() - started);
      if (store.count !== o.records) throw new Error(`replay found ${store.count} records, ${o.records} seeded`);
      await store.close();
      rmSync(copy, { recursive: true, force: true });
    }
    o.log(`  replay in process: ${replays.map((r) => r.toFixed(0)).join(', ')} ms`);

    const startEmpty: number[] = [];
    const startSeeded: number[] = [];
    let rssIdle = NaN;
    let rssHolding = NaN;
    let dumpSmall: DumpFigure | null = null;
    let dumpLarge: DumpFigure | null = null;
    for (let i = 0; i < o.startRuns; i++) {
      const last = i === o.startRuns - 1;
      const e = await startSinkProcess({ store: 'file', dataDir: empty, workDir: o.workDir, args: o.sinkArgs });
      startEmpty.push(e.readyMs);
      if (last) rssIdle = await settledRss(e.pid);
      await e.stop();
      const s = await startSinkProcess({ store: 'file', dataDir: seeded, workDir: o.workDir, args: o.sinkArgs });
      startSeeded.push(s.readyMs);
      if (last) {
        rssHolding = await settledRss(s.pid);
        dumpLarge = await dumpFigure(s, o.records);
      }
      await s.stop();
    }
    o.log(
      `  start-up, empty store: ${startEmpty.map((r) => r.toFixed(0)).join(', ')} ms; ` +
        `${o.records} stored: ${startSeeded.map((r) => r.toFixed(0)).join(', ')} ms`,
    );
    const s = await startSinkProcess({ store: 'file', dataDir: small, workDir: o.workDir, args: o.sinkArgs });
    try {
      dumpSmall = await dumpFigure(s, o.smallRecords);
    } finally {
      await s.stop();
    }
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    for (const d of [dumpSmall, dumpLarge!]) {
      const runs = d.runs.map(
        (r) => `${r.ms.toFixed(0)} ms, RSS ${mb(r.rssBefore)} -> peak ${mb(r.peak)} MiB (+${mb(r.growth)})`,
      );
      o.log(`  dump of ${d.records} (${mb(d.bytes)} MiB): ${runs.join('; ')}`);
    }
    o.log(`  RSS idle ${mb(rssIdle)} MiB, holding ${o.records}: ${mb(rssHolding)} MiB`);
    return {
      records: o.records,
      dataBytes,
      replayInProcessMs: median(replays),
      startEmptyMs: median(startEmpty),
      startSeededMs: median(startSeeded),
      dumpSmall,
      dumpLarge: dumpLarge!,
      rssIdle,
      rssHolding,
    };
  } finally {
    for (const dir of [seeded, small, empty]) rmSync(dir, { recursive: true, force: true });
  }
}

export interface MemoryStoreHolding {
  records: number;
  rss: number;
  check: DataCheck;
}

/** A memory-store sink filled with `records` POSTs (exactly that many, every reply read), then its RSS. */
export async function benchMemoryStoreHolding(o: {
  records: number;
  workDir: string;
  sinkArgs: string[];
  log: (line: string) => void;
}): Promise<MemoryStoreHolding> {
  const dataDir = mkdtempSync(join(o.workDir, 'data-memory-'));
  const sink = await startSinkProcess({ store: 'memory', dataDir, workDir: o.workDir, args: o.sinkArgs });
  try {
    const run = await postLoad(sink.url, { connections: 32, seconds: 0, amount: o.records });
    const rss = await settledRss(sink.pid);
    const check = await checkStored(sink.url, [run], 0);
    if (check.stored !== o.records) check.problems.push(`${o.records} sent, ${check.stored} stored`);
    check.ok = check.problems.length === 0;
    o.log(
      `  memory store holding ${check.stored}: RSS ${(rss / 1024 / 1024).toFixed(1)} MiB; ` +
        `data check ${check.ok ? 'ok' : 'FAILED'} (${check.acked} acknowledged, ${check.stored} stored)`,
    );
    return { records: check.stored, rss, check };
  } finally {
    await sink.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
