import { createHash } from 'node:crypto';
import { describeSeconds, judgeReply, planOutboxRetry } from '../../shared/delivery-decision.js';
import type { Result } from '../../shared/result.js';
import type { Delivered, ForwardFailure } from '../forward.js';
import type { SinkExchange } from './sink-fetch.js';

/** A delivery in the outbox, as stored (outbox-store.ts), without its body. */
export interface Kept {
  seq: number;
  receivedAtMs: number;
  bytes: number;
  messageId: string | null;
  event: string | null;
  status: string | null;
  /** UP42's signature for the sink to verify again (shared/signed-headers.ts); null when it had none. */
  signedHeaders: string | null;
  contentType: string;
  /** Tries of this delivery that did not land. */
  attempts: number;
  /** Of those, tries the sink answered PONG to and then refused with 5xx. */
  refusals: number;
  lastTryAtMs: number | null;
  cause: string | null;
  nextTryAtMs: number | null;
  failedAtMs: number | null;
}

/** What the sink's state looks like from the outbox; written by the drain. */
export interface SinkState {
  away: boolean;
  since: number | null;
  cause: string | null;
  nextTryAtMs: number | null;
}

export type TryOutcome =
  | { outcome: 'delivered'; key: number | null; duplicate: boolean }
  | { outcome: 'away'; cause: string }
  | { outcome: 'troubled'; cause: string }
  | { outcome: 'refused'; cause: string };

/**
 * What one forward attempt means for the outbox. A failure before the POST (no PONG, even a 401 on the ping)
 * concerns the sink, not this delivery: it waits. A POST the sink itself answered with a final refusal concerns
 * this delivery only: it is marked failed, kept, and the next one goes. A POST the sink answered with 5xx
 * (`troubled`) may be the sink's passing trouble or this delivery's: it is tried again, and after
 * REFUSALS_BEFORE_ASIDE such tries it leaves the line (see planTroubled).
 */
export function judgeTry(result: Result<Delivered, ForwardFailure>, last: SinkExchange['last']): TryOutcome {
  if (result.ok) return { outcome: 'delivered', key: result.value.key, duplicate: result.value.duplicate };
  const cause = `${result.reason}: ${result.message}`;
  if (last.post === null) return { outcome: 'away', cause };
  const verdict = judgeReply(last.post);
  if (verdict.verdict === 'final') return { outcome: 'refused', cause };
  const post = last.post;
  // A 5xx of the sink's own, not ngrok's edge standing in for it (whose codes judgeReply names as the cause).
  const fromSink =
    post.kind === 'response' && post.status >= 500 && verdict.verdict === 'away' && verdict.cause.startsWith('HTTP ');
  return fromSink ? { outcome: 'troubled', cause } : { outcome: 'away', cause };
}

/**
 * What makes two deliveries the same one: UP42's messageId, or for a body without one its SHA-256 (a replay
 * repeats the bytes exactly, or its signature would not hold).
 */
export function dedupKey(messageId: string | null, body: string): string {
  return messageId !== null ? `id:${messageId}` : `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** Tries the sink answered PONG to and refused with 5xx before a delivery steps aside from the line. */
export const REFUSALS_BEFORE_ASIDE = 3;
/** The wait between such tries while the delivery is still the head: short, as the sink is there. */
export const REFUSAL_RETRY_MS = 1_000;

export type NextTry = { action: 'retry'; nextTryAtMs: number } | { action: 'give-up'; cause: string };

/**
 * The next try of a delivery whose last try failed (`tries` in a row, the line's streak for its head), on the
 * FORWARD_PARK_DELAYS schedule (the last delay repeating), unless that would take it past FORWARD_PARK_MAX_HOURS
 * since it arrived.
 */
export function planNextTry(
  kept: Kept,
  tries: number,
  delaysSeconds: readonly number[],
  maxHours: number,
  nowMs: number,
): NextTry {
  const plan = planOutboxRetry(tries, delaysSeconds, kept.receivedAtMs, nowMs, maxHours * 3600);
  if (plan.action === 'retry') return { action: 'retry', nextTryAtMs: plan.nextTryAtMs };
  const within = describeSeconds(maxHours * 3600);
  return { action: 'give-up', cause: `${kept.cause ?? 'not delivered'} (gave up: not delivered within ${within})` };
}

/**
 * The free plan allows 50 subrequests per invocation. A drain starts a request to the sink (the batch's ping,
 * or one delivery's POST) only while FORWARD_MAX_ATTEMPTS more fit, as each may be retried that often: when
 * the sink answers at once a drain POSTs up to 49 deliveries, and never fewer than drainBatch.
 */
export const SUBREQUESTS_PER_INVOCATION = 50;
export function mayStart(used: number, maxAttempts: number): boolean {
  return used + maxAttempts <= SUBREQUESTS_PER_INVOCATION;
}

/** Deliveries a drain POSTs at least: every attempt of the ping and of each POST used up. */
export function drainBatch(maxAttempts: number): number {
  return Math.max(1, Math.floor((SUBREQUESTS_PER_INVOCATION - maxAttempts) / maxAttempts));
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** One delivery as `GET /outbox` shows it: what it is and why it waits, never its body. */
export function describeKept(kept: Kept, state: 'waiting' | 'aside' | 'failed') {
  return {
    seq: kept.seq,
    state,
    messageId: kept.messageId,
    event: kept.event,
    status: kept.status,
    bytes: kept.bytes,
    receivedAt: iso(kept.receivedAtMs),
    attempts: kept.attempts,
    refusals: kept.refusals,
    signed: kept.signedHeaders !== null,
    lastTryAt: iso(kept.lastTryAtMs),
    nextTryAt: iso(kept.nextTryAtMs),
    failedAt: iso(kept.failedAtMs),
    cause: kept.cause,
  };
}
