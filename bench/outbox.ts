import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { miniflareOptions, wakeOutbox } from '../forwarder/worker/miniflare.js';
import { signedDeliveryHeaders } from '../shared/signature.js';
import { buildWorker } from '../scripts/build-worker.js';
import { BUILT_SINK } from './bundle.js';
import { messageId, payload } from './payload.js';
import { baseEnv, startProcess, type ServerProcess } from './processes.js';
import { fmt, meets, row, type Row } from './report.js';
import { median } from './stats.js';

/**
 * The Worker's outbox in workerd (Miniflare, as `npm run worker`), delivering to the real sink (memory store)
 * on loopback, with the default FORWARD_* settings, on two outboxes in turn, one empty and one with a backlog:
 * - keeping `batch` into the empty one (then delivered) against keeping `batch` with `backlog` or more waiting,
 *   three rounds of each, alternating (8 in flight; the medians);
 * - rows read and written per webhook, from arrival to delivery, in both, from the outbox's own count of what
 *   SQLite reports (`GET /check`'s `storage`, the SQL cursor's rowsRead and rowsWritten);
 * - catch-up: the backlog delivered once its sink is back and the outbox woken, beside as many POSTs sent
 *   straight to that sink from workerd with the same `fetch`, 45 per invocation (the free plan allows 50).
 */

const SECRET = 'bench-outbox-secret';
const AUTH = { user: 'bench', pass: 'bench-outbox-pass' };
const AUTHORIZATION = `Basic ${Buffer.from(`${AUTH.user}:${AUTH.pass}`).toString('base64')}`;
const IN_FLIGHT = 8;
/** Rounds of keeping `batch`, into the empty outbox and with the backlog waiting: the medians are compared. */
const ROUNDS = 3;
/** Cloudflare's Workers Free plan, per day, for SQLite-backed Durable Objects (its pricing page). */
export const FREE_PLAN = { rowsReadPerDay: 5_000_000, rowsWrittenPerDay: 100_000 } as const;

export interface Rows {
  read: number;
  written: number;
}

export interface OutboxFigures {
  batch: number;
  backlog: number;
  keepEmptyMs: number;
  keepFullMs: number;
  keepEmptyRoundsMs: number[];
  keepFullRoundsMs: number[];
  keepRatio: number;
  rowsPerWebhookEmpty: Rows;
  rowsPerWebhookFull: Rows;
  /** Webhooks a day the free plan's limits allow at the larger of the two figures. */
  webhooksPerDay: number;
  catchUpMs: number;
  catchUpDelivered: number;
  directMs: number;
  catchUpRatio: number;
}

/** POSTs each delivery straight to the sink from inside workerd, in invocations of at most 45 requests. */
const DIRECT = `
export default {
  async fetch(request) {
    const { url, authorization, bodies } = await request.json();
    for (const body of bodies) {
      const headers = { authorization, 'content-type': 'application/json' };
      const answer = await fetch(url, { method: 'POST', headers, body });
      await answer.text();
      if (answer.status !== 200) return new Response(String(answer.status), { status: 500 });
    }
    return new Response('ok');
  },
};
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function keepMany(url: string, ids: string[]): Promise<number> {
  const started = performance.now();
  let next = 0;
  const send = async () => {
    while (next < ids.length) {
      const body = payload(ids[next++]!);
      const headers = signedDeliveryHeaders({ body, secret: SECRET, created: Math.floor(Date.now() / 1000) });
      const answer = await fetch(url, { method: 'POST', headers, body });
      const text = await answer.text();
      if (answer.status !== 200 || !text.includes('"kept"')) throw new Error(`keep answered ${answer.status}: ${text}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, send));
  return performance.now() - started;
}

interface CheckState {
  waiting: number;
  delivered: number;
  storage: { rowsRead: number; rowsWritten: number };
}

async function check(url: string): Promise<{ waiting: number; delivered: number; rows: Rows }> {
  const answer = await fetch(`${url}/check`, { headers: { authorization: AUTHORIZATION } });
  const { outbox } = (await answer.json()) as { outbox: CheckState };
  return {
    waiting: outbox.waiting,
    delivered: outbox.delivered,
    rows: { read: outbox.storage.rowsRead, written: outbox.storage.rowsWritten },
  };
}

const minus = (a: Rows, b: Rows): Rows => ({ read: a.read - b.read, written: a.written - b.written });
const per = (r: Rows, n: number): Rows => ({ read: r.read / n, written: r.written / n });
const plus = (a: Rows, b: Rows): Rows => ({ read: a.read + b.read, written: a.written + b.written });

/** Starts the sink, wakes the outbox, and waits until `delivered` is reached; the time it took from the wake. */
async function drainTo(url: string, delivered: number, startSink: () => Promise<ServerProcess>) {
  const sink = await startSink();
  const started = performance.now();
  await fetch(`${url}/wake`, { method: 'POST', headers: { authorization: AUTHORIZATION } });
  for (;;) {
    const state = await check(url);
    if (state.delivered >= delivered && state.waiting === 0) return { sink, ms: performance.now() - started, state };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Outbox {
  mf: Miniflare;
  url: string;
  sinkUrl: string;
  startSink(): Promise<ServerProcess>;
}

/** A Worker in workerd with its own outbox storage, pointed at a sink port of its own (nothing listens yet). */
async function openOutbox(
  name: string,
  o: { scriptPath: string; workDir: string; onLine: (line: string) => void; maxWaiting: number },
): Promise<Outbox> {
  const port = await freePort();
  const sinkUrl = `http://127.0.0.1:${port}`;
  const startSink = () =>
    startProcess({
      name: `outbox-sink-${name}`,
      args: BUILT_SINK,
      env: {
        ...baseEnv(),
        SINK_PORT: String(port),
        SINK_STORE: 'memory',
        SINK_BASIC_AUTH_USER: AUTH.user,
        SINK_BASIC_AUTH_PASS: AUTH.pass,
      },
      logDir: o.workDir,
    });
  const bindings = {
    UP42_WEBHOOK_SECRET: SECRET,
    SINK_URL: sinkUrl,
    SINK_BASIC_AUTH_USER: AUTH.user,
    SINK_BASIC_AUTH_PASS: AUTH.pass,
    WORKER_MAX_WAITING: String(o.maxWaiting),
  };
  const persistDir = join(o.workDir, `outbox-${name}`);
  const mf = new Miniflare(
    miniflareOptions({ scriptPath: o.scriptPath, bindings, persistDir, port: 0, onLine: o.onLine }),
  );
  const url = (await mf.ready).origin;
  await wakeOutbox(mf);
  return { mf, url, sinkUrl, startSink };
}

export async function benchOutbox(o: {
  batch: number;
  backlog: number;
  workDir: string;
  log: (line: string) => void;
}): Promise<OutboxFigures> {
  const { batch, backlog, workDir, log } = o;
  const scriptPath = await buildWorker(join(workDir, 'worker-dist'));
  // BENCH_OUTBOX_LOG=<file>: the outbox's lines (kept, delivered, parked), to see what a figure was made of.
  const logFile = process.env.BENCH_OUTBOX_LOG;
  const onLine = logFile
    ? (line: string) => appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`)
    : () => {};
  // Two outboxes, each with its own sink port: one kept empty, one holding the backlog. Their rounds alternate,
  // so a neighbour's load on this shared machine weighs on both alike.
  const empty = await openOutbox('empty', { scriptPath, workDir, onLine, maxWaiting: backlog * 2 });
  const full = await openOutbox('full', { scriptPath, workDir, onLine, maxWaiting: backlog * 2 });
  const direct = new Miniflare({ modules: true, script: DIRECT });
  try {
    let id = 0;
    const ids = (n: number) => Array.from({ length: n }, () => messageId(7, ++id));
    // Warm-up: the Worker's code and each object's, a few hundred kept and delivered; both are empty again.
    for (const outbox of [empty, full]) {
      await keepMany(outbox.url, ids(200));
      await (await drainTo(outbox.url, 200, outbox.startSink)).sink.stop();
    }
    log(`  warm-up done; filling one outbox to ${backlog} waiting, the sink away`);
    await keepMany(full.url, ids(backlog));

    log(`  ${ROUNDS} rounds of keeping ${batch}: into the empty outbox (then delivered), and with the backlog`);
    let delivered = 200;
    let emptyArrivals: Rows = { read: 0, written: 0 };
    let emptyDrains: Rows = { read: 0, written: 0 };
    let fullArrivals: Rows = { read: 0, written: 0 };
    const emptyMs: number[] = [];
    const fullMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const before = await check(empty.url);
      emptyMs.push(await keepMany(empty.url, ids(batch)));
      const kept = await check(empty.url);
      delivered += batch;
      const drained = await drainTo(empty.url, delivered, empty.startSink);
      await drained.sink.stop();
      emptyArrivals = plus(emptyArrivals, minus(kept.rows, before.rows));
      emptyDrains = plus(emptyDrains, minus(drained.state.rows, kept.rows));
      const beforeFull = await check(full.url);
      fullMs.push(await keepMany(full.url, ids(batch)));
      fullArrivals = plus(fullArrivals, minus((await check(full.url)).rows, beforeFull.rows));
    }
    const emptyRows = plus(per(emptyArrivals, ROUNDS * batch), per(emptyDrains, ROUNDS * batch));
    const kept = await check(full.url);
    const waiting = backlog + ROUNDS * batch;
    log(`  catch-up: ${waiting} waiting delivered once the sink is back`);
    const catchUp = await drainTo(full.url, 200 + waiting, full.startSink);
    const fullRows = plus(per(fullArrivals, ROUNDS * batch), per(minus(catchUp.state.rows, kept.rows), waiting));
    const keepEmptyMs = median(emptyMs);
    const keepFullMs = median(fullMs);
    const sinkUrl = full.sinkUrl;

    log(`  the same number POSTed straight to the sink from workerd`);
    const directUrl = (await direct.ready).origin;
    const directIds = Array.from({ length: waiting }, (_, i) => messageId(8, i + 1));
    const startedDirect = performance.now();
    for (let i = 0; i < directIds.length; i += 45) {
      const bodies = directIds.slice(i, i + 45).map(payload);
      const answer = await fetch(directUrl, {
        method: 'POST',
        body: JSON.stringify({ url: `${sinkUrl}/receive-webhooks`, authorization: AUTHORIZATION, bodies }),
      });
      if ((await answer.text()) !== 'ok') throw new Error(`the direct POSTs failed: ${answer.status}`);
    }
    const directMs = performance.now() - startedDirect;
    await catchUp.sink.stop();

    const worst = Math.max(emptyRows.written, fullRows.written);
    const worstRead = Math.max(emptyRows.read, fullRows.read);
    return {
      batch,
      backlog,
      keepEmptyMs,
      keepFullMs,
      keepEmptyRoundsMs: emptyMs,
      keepFullRoundsMs: fullMs,
      keepRatio: keepFullMs / keepEmptyMs,
      rowsPerWebhookEmpty: emptyRows,
      rowsPerWebhookFull: fullRows,
      webhooksPerDay: Math.floor(
        Math.min(FREE_PLAN.rowsWrittenPerDay / worst, FREE_PLAN.rowsReadPerDay / Math.max(worstRead, 1e-9)),
      ),
      catchUpMs: catchUp.ms,
      catchUpDelivered: waiting,
      directMs,
      catchUpRatio: directMs / catchUp.ms,
    };
  } finally {
    await Promise.all([empty.mf.dispose(), full.mf.dispose(), direct.dispose()]);
  }
}

const rows2 = (r: Rows) => `${r.read.toFixed(1)} read, ${r.written.toFixed(1)} written`;

export function outboxRows(f: OutboxFigures): Row[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const same =
    Math.abs(f.rowsPerWebhookFull.written - f.rowsPerWebhookEmpty.written) < 0.5 &&
    Math.abs(f.rowsPerWebhookFull.read - f.rowsPerWebhookEmpty.read) < 0.5;
  return [
    row(
      `Worker outbox: keep ${n(f.batch)} with ${n(f.backlog)}+ waiting vs empty (medians of ${ROUNDS})`,
      `${fmt.ratio(f.keepRatio)} x (${fmt.ms(f.keepFullMs)} vs ${fmt.ms(f.keepEmptyMs)}, ${IN_FLIGHT} in flight)`,
      '<= 1.2 x',
      meets(f.keepRatio <= 1.2),
    ),
    row(
      `Worker outbox: rows per webhook, arrival to delivery, 0 / ${n(f.backlog)} waiting`,
      `${rows2(f.rowsPerWebhookEmpty)} / ${rows2(f.rowsPerWebhookFull)}; free plan: ${n(f.webhooksPerDay)} a day`,
      'the same for both; >= 10,000 a day',
      meets(same && f.webhooksPerDay >= 10_000),
    ),
    row(
      `Worker outbox: catch-up of ${n(f.catchUpDelivered)} vs POSTed straight from workerd`,
      `${fmt.ratio(f.catchUpRatio)} x (${fmt.ms(f.catchUpMs)} vs ${fmt.ms(f.directMs)})`,
      '>= 0.5 x',
      meets(f.catchUpRatio >= 0.5),
    ),
  ];
}
