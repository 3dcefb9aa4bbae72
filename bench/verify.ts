/**
 * Verifications per second of shared/signature.ts for a realistic delivery: the sample failed-job event as
 * its raw body, the headers a Pipedream HTTP trigger passes on, UP42's signature over content-type, date and
 * content-digest, and the body checked against that digest. One thread, so one core. The target, 50,000 a
 * second, is what plain node:crypto reaches with room to spare; a Pipedream run verifies one webhook.
 *
 *   npm run bench:verify [-- --rounds 5 --seconds 2]
 *
 * benchVerify() returns the figure for the full benchmark (bench/run.ts) to report alongside the others.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { sampleFailedJobEvent } from '../shared/events.js';
import { signedDeliveryHeaders, verify, type VerifyOptions } from '../shared/signature.js';

export const VERIFY_TARGET_PER_SECOND = 50_000;

export interface VerifyBenchOptions {
  /** Measured rounds; the figure is their median. */
  rounds?: number;
  roundSeconds?: number;
  warmupSeconds?: number;
}

export interface VerifyBenchResult {
  /** Median verifications per CPU-second (one core) over the rounds: the figure compared with the target. */
  perSecond: number;
  /** Median verifications per wall-clock second; lower than perSecond when other processes share the cores. */
  perWallSecond: number;
  /** The best round per CPU-second: the nearest to an idle core when the machine is busy. */
  best: number;
  rounds: Round[];
  target: number;
  meetsTarget: boolean;
  bodyBytes: number;
}

/** A delivery as the validate step sees it: every header lower-cased, the body as received. */
export function realisticRequest(): VerifyOptions {
  const secret = 'whsec_4f1c9a7be2d84c0f9b6a3e5d7c1f2a8b';
  const created = 1_764_489_600;
  const rawBody = JSON.stringify(sampleFailedJobEvent);
  const headers = {
    host: 'eo1x2y3z4a5b6c7.m.pipedream.net',
    'user-agent': 'UP42-Webhooks/1.0',
    accept: '*/*',
    'accept-encoding': 'gzip, deflate, br',
    'content-length': String(Buffer.byteLength(rawBody)),
    'x-forwarded-for': '203.0.113.42',
    'x-forwarded-proto': 'https',
    'x-amzn-trace-id': 'Root=1-6751a2c0-3f2e1d0c9b8a7f6e5d4c3b2a',
    ...signedDeliveryHeaders({ body: rawBody, secret, created }),
  };
  return { headers, secrets: [secret], now: created + 2, rawBody };
}

interface Round {
  /** Verifications per second of wall-clock time. */
  wall: number;
  /** Verifications per second of CPU time used by this process: what one core does, even on a busy machine. */
  cpu: number;
}

/** Runs verify for `seconds` of wall-clock time. Throws if one ever fails. */
function measure(request: VerifyOptions, seconds: number): Round {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const deadline = start + seconds * 1000;
  let count = 0;
  let now = start;
  while (now < deadline) {
    // Read the clock every 256 calls so that timing costs little next to the work measured.
    for (let i = 0; i < 256; i++) {
      const result = verify(request);
      if (!result.ok) throw new Error(`the benchmark request did not verify: ${result.reason}`);
    }
    count += 256;
    now = performance.now();
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wall: count / ((now - start) / 1000), cpu: count / ((cpu.user + cpu.system) / 1e6) };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export function benchVerify(options: VerifyBenchOptions = {}): VerifyBenchResult {
  const { rounds = 5, roundSeconds = 2, warmupSeconds = 1 } = options;
  const request = realisticRequest();
  measure(request, warmupSeconds);
  const perRound: Round[] = [];
  for (let r = 0; r < rounds; r++) perRound.push(measure(request, roundSeconds));
  const perSecond = median(perRound.map((r) => r.cpu));
  return {
    perSecond,
    perWallSecond: median(perRound.map((r) => r.wall)),
    best: Math.max(...perRound.map((r) => r.cpu)),
    rounds: perRound,
    target: VERIFY_TARGET_PER_SECOND,
    meetsTarget: perSecond >= VERIFY_TARGET_PER_SECOND,
    bodyBytes: Buffer.byteLength(request.rawBody as string),
  };
}

const formatRate = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatVerifyResult(result: VerifyBenchResult): string {
  return [
    `verify: ${formatRate(result.perSecond)} verifications/s on one core ` +
      `(per CPU-second, median of ${result.rounds.length} rounds; ${result.bodyBytes}-byte body, digest checked)`,
    `  best round: ${formatRate(result.best)}/s; ` +
      `wall clock: ${formatRate(result.perWallSecond)}/s (lower when other processes share the cores)`,
    `  rounds (cpu / wall): ${result.rounds.map((r) => `${formatRate(r.cpu)} / ${formatRate(r.wall)}`).join(', ')}`,
    `  target: >= ${formatRate(result.target)}/s: ${result.meetsTarget ? 'met' : 'NOT met'}`,
  ].join('\n');
}

function numberArg(args: string[], name: string): number | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const n = Number(args[i + 1]);
  if (!(n > 0)) throw new Error(`${name} needs a positive number`);
  return n;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const rounds = numberArg(args, '--rounds');
  const roundSeconds = numberArg(args, '--seconds');
  console.log(
    formatVerifyResult(benchVerify({ rounds: rounds === undefined ? undefined : Math.floor(rounds), roundSeconds })),
  );
}
