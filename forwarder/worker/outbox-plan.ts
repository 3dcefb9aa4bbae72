import { describeSeconds, judgeReply, planOutboxRetry } from '../../shared/delivery-decision.js';
import type { Result } from '../../shared/result.js';
import type { Delivered, ForwardFailure } from '../forward.js';
import type { SinkExchange } from './sink-fetch.js';

/**
 * A delivery in the outbox, as stored. Its body (the text UP42 sent, byte for byte once encoded as UTF-8) is
 * kept under a key of its own, so listing what waits never loads the bodies.
 */
export interface Kept {
  seq: number;
  receivedAtMs: number;
  bytes: number;
  messageId: string | null;
  event: string | null;
  status: string | null;
  /** Tries of this delivery that found the sink away. */
  attempts: number;
  lastTryAtMs: number | null;
  cause: string | null;
  nextTryAtMs: number | null;
  failedAtMs: number | null;
}

export type TryOutcome =
  | { outcome: 'delivered'; key: number | null; duplicate: boolean }
  | { outcome: 'away'; cause: string }
  | { outcome: 'refused'; cause: string };

/**
 * What one forward attempt means for the outbox. A failure before the POST (no PONG, even a 401 on the ping)
 * concerns the sink, not this delivery: it waits. A POST the sink itself answered with a final refusal concerns
 * this delivery only: it is marked failed, kept, and the next one goes.
 */
export function judgeTry(result: Result<Delivered, ForwardFailure>, last: SinkExchange['last']): TryOutcome {
  if (result.ok) return { outcome: 'delivered', key: result.value.key, duplicate: result.value.duplicate };
  const cause = `${result.reason}: ${result.message}`;
  if (last.post === null) return { outcome: 'away', cause };
  const verdict = judgeReply(last.post);
  return verdict.verdict === 'final' ? { outcome: 'refused', cause } : { outcome: 'away', cause };
}

export interface LinePlan {
  /** Given up: waited longer than FORWARD_PARK_MAX_HOURS since they arrived; to be marked failed and kept. */
  givenUp: Kept[];
  /** The new head of the line and when to try it, unless nothing is left waiting. */
  next: { kept: Kept; nextTryAtMs: number } | null;
}

/**
 * After `streak` tries in a row found the sink away: the head of the line (`line[0]`, just tried) waits for the
 * schedule's next delay, unless that would take it past FORWARD_PARK_MAX_HOURS since it arrived; then it is given
 * up and the next in line is planned the same way.
 */
export function planLine(
  streak: number,
  line: readonly Kept[],
  delaysSeconds: readonly number[],
  maxHours: number,
  nowMs: number,
): LinePlan {
  const givenUp: Kept[] = [];
  for (const kept of line) {
    const plan = planOutboxRetry(streak, delaysSeconds, kept.receivedAtMs, nowMs, maxHours * 3600);
    if (plan.action === 'retry') return { givenUp, next: { kept, nextTryAtMs: plan.nextTryAtMs } };
    const within = describeSeconds(maxHours * 3600);
    const cause = `${kept.cause ?? 'not delivered'} (gave up: not delivered within ${within})`;
    givenUp.push({ ...kept, cause });
  }
  return { givenUp, next: null };
}

export const seqKey = (prefix: 'waiting:' | 'failed:' | 'body:' | 'signed:', seq: number) =>
  `${prefix}${String(seq).padStart(12, '0')}`;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** One delivery as `GET /outbox` shows it: what it is and why it waits, never its body. */
export function describeKept(kept: Kept, state: 'waiting' | 'failed') {
  return {
    seq: kept.seq,
    state,
    messageId: kept.messageId,
    event: kept.event,
    status: kept.status,
    bytes: kept.bytes,
    receivedAt: iso(kept.receivedAtMs),
    attempts: kept.attempts,
    lastTryAt: iso(kept.lastTryAtMs),
    nextTryAt: iso(kept.nextTryAtMs),
    failedAt: iso(kept.failedAtMs),
    cause: kept.cause,
  };
}
