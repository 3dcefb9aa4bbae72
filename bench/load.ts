import autocannon, { type Result } from 'autocannon';
import { payload, messageId } from './payload.js';

/**
 * Load runs with autocannon, driven from this process against a server in another. Every POST carries the
 * benchmark's 1 KB webhook with a fresh messageId, and every 200 reply's key is collected, so the run can
 * be checked against what the sink stored afterwards.
 */

export interface LoadResult {
  /** 2xx replies per second of the run. */
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  durationS: number;
}

export interface PostLoadResult extends LoadResult {
  /** Keys of the `value with key K stored` replies, in reply order. */
  ackedKeys: number[];
  /** Every messageId the load generator put in a request (some prepared requests are never sent). */
  prepared: Set<string>;
}

export interface LoadOptions {
  connections: number;
  seconds: number;
  /** Send exactly this many requests instead of running for `seconds` (every reply is then read). */
  amount?: number;
  headers?: Record<string, string>;
}

const STORED = /value with key (\d+) stored/;

let runs = 0;

function summary(r: Result): LoadResult {
  const ok = r['2xx'];
  return {
    rps: ok / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok,
    non2xx: r.non2xx,
    errors: r.errors,
    durationS: r.duration,
  };
}

export async function postLoad(url: string, options: LoadOptions): Promise<PostLoadResult> {
  runs += 1;
  const run = runs;
  let n = 0;
  const prepared = new Set<string>();
  const ackedKeys: number[] = [];
  const result = await autocannon({
    url,
    connections: options.connections,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.seconds }),
    requests: [
      {
        method: 'POST',
        path: '/receive-webhooks',
        headers: { 'content-type': 'application/json', ...options.headers },
        setupRequest: (request) => {
          const id = messageId(run, n++);
          prepared.add(id);
          return { ...request, body: payload(id) };
        },
        onResponse: (status, body) => {
          if (status !== 200) return;
          const match = STORED.exec(body);
          if (match) ackedKeys.push(Number(match[1]));
        },
      },
    ],
  });
  return { ...summary(result), ackedKeys, prepared };
}

export async function getLoad(url: string, path: string, options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: url + path,
    connections: options.connections,
    duration: options.seconds,
    headers: options.headers ?? {},
  });
  return summary(result);
}
