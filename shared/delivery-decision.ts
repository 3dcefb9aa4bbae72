/**
 * What a forwarder does with the sink's answer, the same on every host (Pipedream steps, the Worker's outbox):
 * deliver, try again now, park the delivery until later, or give up. Pure; each host's shell carries the
 * decision out ($.flow.rerun, a Durable Object alarm).
 */

/**
 * ngrok's edge answers for the sink itself when the tunnel is down: the endpoint is offline (3200), the agent cannot
 * reach the sink behind it (8012), the edge could not forward the connection to the agent (3210), or no backend is
 * available (724). Such an answer means "away", whatever its status code.
 */
export const NGROK_AWAY_CODES: ReadonlySet<string> = new Set([
  'ERR_NGROK_3200',
  'ERR_NGROK_8012',
  'ERR_NGROK_3210',
  'ERR_NGROK_724',
]);

/**
 * An invalid response from the upstream (3004), in ngrok's words usually a misconfigured upstream: the tunnel points
 * at something that is not the sink, which waiting does not fix. Final, whatever its status code.
 */
export const NGROK_FINAL_CODES: ReadonlySet<string> = new Set(['ERR_NGROK_3004']);

/** What came back from one request to the sink, as far as the decision needs it. */
export type SinkReply =
  { kind: 'network'; timedOut: boolean } | { kind: 'response'; status: number; ngrokErrorCode?: string | undefined };

/**
 * `answered`: the sink itself answered and the caller reads the answer; `away`: nothing usable answered, a later
 * try may succeed; `final`: trying again cannot help (a wrong password, a refused body, a redirect elsewhere).
 */
export type ReplyVerdict =
  { verdict: 'answered' } | { verdict: 'away'; cause: string } | { verdict: 'final'; cause: string };

export function judgeReply(reply: SinkReply): ReplyVerdict {
  if (reply.kind === 'network') return { verdict: 'away', cause: reply.timedOut ? 'timeout' : 'network error' };
  const { status, ngrokErrorCode } = reply;
  if (ngrokErrorCode !== undefined && NGROK_AWAY_CODES.has(ngrokErrorCode))
    return { verdict: 'away', cause: ngrokErrorCode };
  if (ngrokErrorCode !== undefined && NGROK_FINAL_CODES.has(ngrokErrorCode))
    return { verdict: 'final', cause: ngrokErrorCode };
  if (status === 429 || status >= 500) return { verdict: 'away', cause: `HTTP ${status}` };
  if (status >= 300) return { verdict: 'final', cause: `HTTP ${status}` };
  return { verdict: 'answered' };
}

/** The park schedule's default: 10 reruns over about 12.9 hours. */
export const DEFAULT_PARK_DELAYS_SECONDS = [60, 300, 900, 1800, 3600, 3600, 7200, 7200, 10800, 10800] as const;

export type ParkPlan =
  | { action: 'park'; delaySeconds: number; /** 1-based: this is park N of `of` */ park: number; of: number }
  | { action: 'give-up'; triedSeconds: number; parks: number };

/**
 * After run `run` (1 for the first, as Pipedream's `$.context.run.runs` counts) found the sink away: park for the
 * next delay of the schedule, or give up once every delay has been waited.
 */
export function planPark(run: number, delaysSeconds: readonly number[]): ParkPlan {
  const index = Math.max(1, Math.floor(run)) - 1;
  if (index < delaysSeconds.length)
    return { action: 'park', delaySeconds: delaysSeconds[index]!, park: index + 1, of: delaysSeconds.length };
  return { action: 'give-up', triedSeconds: delaysSeconds.reduce((sum, d) => sum + d, 0), parks: delaysSeconds.length };
}

export type OutboxPlan =
  { action: 'retry'; delaySeconds: number; nextTryAtMs: number } | { action: 'give-up'; triedForMs: number };

/**
 * An outbox that keeps a delivery until it lands (the Worker): attempt N waits the schedule's Nth delay, then
 * the last delay again and again, until `maxSeconds` have passed since the first try.
 */
export function planOutboxRetry(
  attempt: number,
  delaysSeconds: readonly number[],
  firstTryAtMs: number,
  nowMs: number,
  maxSeconds: number,
): OutboxPlan {
  const delays = delaysSeconds.length > 0 ? delaysSeconds : [60];
  const delaySeconds = delays[Math.min(Math.max(1, Math.floor(attempt)), delays.length) - 1]!;
  const nextTryAtMs = nowMs + delaySeconds * 1000;
  if (nextTryAtMs - firstTryAtMs > maxSeconds * 1000) return { action: 'give-up', triedForMs: nowMs - firstTryAtMs };
  return { action: 'retry', delaySeconds, nextTryAtMs };
}

/** "45 s", "15 min", "2 h", "1 h 30 min": for summaries and logs. */
export function describeSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}
