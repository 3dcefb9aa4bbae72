import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildForwarder } from '../scripts/build-forwarder.js';
import { buildPipedream } from '../scripts/build-pipedream.js';
import { signedDeliveryHeaders } from '../shared/signature.js';
import { messageId, payload } from './payload.js';
import { baseEnv, httpGet, REPO_ROOT, startProcess } from './processes.js';
import { percentile } from './stats.js';
import { startSinkProcess } from './throughput.js';

/**
 * Section 6 and 7: what the local runner adds to a delivery, and the size of the built Pipedream steps.
 *
 * Runner overhead: the same signed 1 KB webhook POSTed to the runner (which verifies it, pings the sink and
 * forwards it) and, interleaved one by one, straight to the sink; both over a keep-alive connection from
 * this process, one request at a time. The overhead is the difference of the two latency distributions at
 * p50 and p99. Runner and sink (memory store, with basic auth as in use) each run in their own process, the
 * runner as `npm run forwarder` runs it: bundled (scripts/build-forwarder.ts, here into dist/bench/forwarder/)
 * under plain node.
 */

const SECRET = 'bench-whsec-5b1e0c7d9a2f4e68';
const USER = 'bench';
const PASS = 'bench-pass-2f9c4d7e1a';

/** One measured window: `requests` deliveries through the runner, each paired with one straight to the sink. */
export interface OverheadWindow {
  /** Deliveries the runner had handled before the window. */
  after: number;
  requests: number;
  runnerP50: number;
  runnerP99: number;
  directP50: number;
  directP99: number;
  overheadP50: number;
  overheadP99: number;
}

export interface RunnerOverhead {
  /** Right after start, while V8 still compiles the runner's code. */
  startup: OverheadWindow;
  /** A runner that has been up a while: the figure the target is about. */
  steady: OverheadWindow;
  forwarded: number;
  stored: number;
}

function overheadWindow(after: number, viaRunner: number[], direct: number[]): OverheadWindow {
  const runnerP50 = percentile(viaRunner, 50);
  const runnerP99 = percentile(viaRunner, 99);
  const directP50 = percentile(direct, 50);
  const directP99 = percentile(direct, 99);
  return {
    after,
    requests: viaRunner.length,
    runnerP50,
    runnerP99,
    directP50,
    directP99,
    overheadP50: runnerP50 - directP50,
    overheadP99: runnerP99 - directP99,
  };
}

const describeWindow = (w: OverheadWindow) =>
  `runner p50 ${w.runnerP50.toFixed(2)} ms p99 ${w.runnerP99.toFixed(2)} ms; ` +
  `sink direct p50 ${w.directP50.toFixed(2)} ms p99 ${w.directP99.toFixed(2)} ms`;

function post(
  agent: Agent,
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Two windows of `requests` deliveries: one after `warmup` (a runner just started: V8 is still compiling its
 * code, which takes a few hundred deliveries), and one after `steadyAfter` deliveries in all.
 */
export async function benchRunner(o: {
  requests: number;
  warmup: number;
  steadyAfter: number;
  workDir: string;
  sinkArgs: string[];
  log: (line: string) => void;
}): Promise<RunnerOverhead> {
  const runnerBundle = await buildForwarder(join(REPO_ROOT, 'dist', 'bench', 'forwarder'));
  const dataDir = mkdtempSync(join(o.workDir, 'data-runner-'));
  const sink = await startSinkProcess({
    store: 'memory',
    dataDir,
    workDir: o.workDir,
    args: o.sinkArgs,
    env: { SINK_BASIC_AUTH_USER: USER, SINK_BASIC_AUTH_PASS: PASS },
  });
  const runner = await startProcess({
    name: 'runner',
    args: [runnerBundle],
    env: {
      ...baseEnv(),
      FORWARDER_HOST: '127.0.0.1',
      FORWARDER_PORT: '0',
      UP42_WEBHOOK_SECRET: SECRET,
      SINK_URL: sink.url,
      SINK_BASIC_AUTH_USER: USER,
      SINK_BASIC_AUTH_PASS: PASS,
    },
    logDir: o.workDir,
    ready: 'listening',
  }).catch(async (error: unknown) => {
    await sink.stop();
    throw error;
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const auth = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;
  const startup = { via: [] as number[], direct: [] as number[] };
  const steady = { via: [] as number[], direct: [] as number[] };
  const steadyAfter = Math.max(o.steadyAfter, o.warmup + o.requests);
  let forwarded = 0;
  let n = 0;
  try {
    for (let i = 0; i < steadyAfter + o.requests; i++) {
      const window = i >= o.warmup && i < o.warmup + o.requests ? startup : i >= steadyAfter ? steady : null;
      const body1 = payload(messageId(0x7e57, ++n));
      const signed = signedDeliveryHeaders({ body: body1, secret: SECRET, created: Math.floor(Date.now() / 1000) });
      const a = await post(agent, `${runner.url}/`, body1, { ...signed, 'content-type': 'application/json' });
      if (a.status !== 200 || !a.text.includes('"forwarded"'))
        throw new Error(`the runner answered ${a.status}: ${a.text.slice(0, 300)}`);
      forwarded += 1;
      const body2 = payload(messageId(0x7e57, ++n));
      const b = await post(agent, `${sink.url}/receive-webhooks`, body2, {
        'content-type': 'application/json',
        authorization: auth,
      });
      if (b.status !== 200) throw new Error(`the sink answered ${b.status}: ${b.text.slice(0, 300)}`);
      if (window) {
        window.via.push(a.ms);
        window.direct.push(b.ms);
      }
    }
    const stats = JSON.parse((await httpGet(`${sink.url}/stats`, { authorization: auth })).body) as { count: number };
    const result: RunnerOverhead = {
      startup: overheadWindow(o.warmup, startup.via, startup.direct),
      steady: overheadWindow(steadyAfter, steady.via, steady.direct),
      forwarded,
      stored: stats.count,
    };
    o.log(`  runner after ${o.warmup} deliveries: ${describeWindow(result.startup)}`);
    o.log(`  runner after ${steadyAfter} deliveries: ${describeWindow(result.steady)}`);
    o.log(`  ${forwarded} forwarded + ${forwarded} direct, ${stats.count} stored`);
    if (stats.count !== 2 * forwarded)
      throw new Error(`the sink holds ${stats.count} webhooks, ${2 * forwarded} were acknowledged`);
    return result;
  } finally {
    agent.destroy();
    await runner.stop();
    await sink.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export interface StepFile {
  step: string;
  kind: 'step' | 'action';
  bytes: number;
}

export async function benchStepFiles(workDir: string): Promise<StepFile[]> {
  const outDir = mkdtempSync(join(workDir, 'pipedream-'));
  try {
    return (await buildPipedream({ outDir })).map((f) => ({ step: f.step, kind: f.kind, bytes: f.bytes }));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
