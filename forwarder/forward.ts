import type { ForwardConfig } from '../shared/config.js';
import { judgeReply } from '../shared/delivery-decision.js';
import { ok, type Result } from '../shared/result.js';
import { SIGNED_HEADERS_HEADER } from '../shared/signed-headers.js';
import { parseStoredReply, sinkMessage } from './sink-reply.js';

export { parseStoredReply, sinkMessage } from './sink-reply.js';

/**
 * One in-run delivery to the sink: `GET /ping` must answer `200 PONG`, then `POST /receive-webhooks` with the
 * body. Whatever says the sink is away (a network error, a timeout, 429, 5xx, ngrok's edge answering for an
 * offline tunnel) is retried with exponential backoff and jitter, every attempt with its own timeout, all
 * within `deadlineMs`; a failure then says whether the sink was away (worth trying later: the host parks the
 * delivery) or refused it (final). Retrying a POST is safe because the sink stores each `messageId` once.
 */

/** One HTTP exchange as the step sees it. */
export interface SinkRequest {
  method: 'GET' | 'POST';
  url: string;
  auth: ForwardConfig['auth'];
  /** The webhook's bytes, as UP42 sent them when the host has them. */
  body?: string;
  /** The body's type, as received (`application/json` when the body was serialised again). */
  contentType?: string;
  /** Further headers to send, lower-case names (see SINK_HEADERS and RawBody.signedHeaders). */
  headers?: Readonly<Record<string, string>>;
  timeoutMs: number;
}

/** What came back: a response (any status, body as text) or no response at all. */
export type SinkAnswer =
  | {
      kind: 'response';
      status: number;
      text: string;
      retryAfter?: string | undefined;
      /** Set when ngrok's edge answered instead of the sink (`ERR_NGROK_3200`: the tunnel is offline). */
      ngrokErrorCode?: string | undefined;
      /** The sink's `X-Webhook-Key` and `X-Webhook-Duplicate` headers. */
      webhookKey?: string | undefined;
      webhookDuplicate?: string | undefined;
    }
  | { kind: 'network'; timedOut: boolean; detail: string };

export type SinkTransport = (request: SinkRequest) => Promise<SinkAnswer>;

export interface Delivered {
  /** The sink's key for the webhook, when its reply names one. */
  key: number | null;
  /** The sink already had this messageId (a retry or a replay). */
  duplicate: boolean;
  reply: unknown;
  attempts: { ping: number; post: number };
}

/** `unreachable`, `timeout`, `server-error`, `tunnel-offline`: the sink is away; `not-pong`, `refused`: final. */
export type ForwardFailure = 'unreachable' | 'not-pong' | 'refused' | 'timeout' | 'server-error' | 'tunnel-offline';

/** A delivery that did not land: `away` when a later try may succeed, with what said so (`ERR_NGROK_3200`). */
export interface NotDelivered {
  ok: false;
  reason: ForwardFailure;
  message: string;
  away: boolean;
  cause: string;
}

/** The body to send: the bytes UP42 sent, or the parsed body serialised again when the host has no bytes. */
export interface RawBody {
  text: string;
  contentType: string;
  /** UP42's signature, packed for the sink to verify again (shared/signed-headers.ts); absent when unsigned. */
  signedHeaders?: string | null | undefined;
}

/**
 * Sent with every request to the sink: ngrok's free plan may answer a request it takes for a browser's with an
 * interstitial page instead of passing it on; this header, documented by ngrok, skips it.
 */
export const SINK_HEADERS: Readonly<Record<string, string>> = { 'ngrok-skip-browser-warning': '1' };

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

export const BASE_DELAY_MS = 250;
export const MAX_DELAY_MS = 4_000;
/** Not worth starting an attempt with less time than this left. */
const MIN_ATTEMPT_MS = 100;

/** One attempt's timeout: half the budget (at least 1 s), so a hanging sink still leaves room for a retry. */
export function attemptTimeoutMs(deadlineMs: number): number {
  return Math.max(1_000, Math.floor(deadlineMs / 2));
}

/** Exponential backoff with jitter: 250 ms, 500 ms, 1 s, ... (at most 4 s), each scaled by 50-100 %. */
export function backoffMs(attempt: number, random: number): number {
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1)) * (0.5 + random / 2);
}

type Attempt<T> =
  | { kind: 'done'; value: T }
  | { kind: 'retry'; reason: ForwardFailure; detail: string; cause: string; retryAfterMs?: number | undefined }
  | { kind: 'fail'; reason: ForwardFailure; detail: string; cause: string };

interface Budget {
  maxAttempts: number;
  deadline: number;
  deadlineMs: number;
  clock: Clock;
}

const plural = (n: number) => `${n} attempt${n === 1 ? '' : 's'}`;

/** Runs `attempt` until it is done, fails for good, or attempts or time run out. */
async function withRetries<T>(
  attempt: (timeoutMs: number) => Promise<Attempt<T>>,
  budget: Budget,
): Promise<Result<{ value: T; attempts: number }, ForwardFailure> | NotDelivered> {
  const { clock } = budget;
  const notDelivered = (reason: ForwardFailure, message: string, cause: string, away = true): NotDelivered => ({
    ok: false,
    reason,
    message,
    away,
    cause,
  });
  for (let n = 1; ; n++) {
    const remaining = budget.deadline - clock.now();
    const noTime = `no time left within the ${budget.deadlineMs} ms budget`;
    if (remaining < MIN_ATTEMPT_MS) return notDelivered('timeout', noTime, 'timeout');
    const outcome = await attempt(Math.min(remaining, attemptTimeoutMs(budget.deadlineMs)));
    if (outcome.kind === 'done') return ok({ value: outcome.value, attempts: n });
    if (outcome.kind === 'fail') return notDelivered(outcome.reason, outcome.detail, outcome.cause, false);
    if (n >= budget.maxAttempts) {
      return notDelivered(outcome.reason, `${outcome.detail} (gave up after ${plural(n)})`, outcome.cause);
    }
    const delay = Math.max(backoffMs(n, clock.random()), outcome.retryAfterMs ?? 0);
    if (clock.now() + delay + MIN_ATTEMPT_MS > budget.deadline) {
      const detail = `${outcome.detail} (gave up after ${plural(n)}: ${noTime})`;
      return notDelivered(outcome.reason, detail, outcome.cause);
    }
    await clock.sleep(delay);
  }
}

function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*[0-9]+\s*$/.test(value)) return undefined;
  return Number(value) * 1000;
}

type Response = SinkAnswer & { kind: 'response' };

/** What the sink (or the edge in front of it) said, on one line, with the hint a 401 deserves. */
function said(answer: Response): string {
  const text = sinkMessage(answer.text);
  // A sink that checks UP42's signature itself refuses a bad one with 401 too, and says so: no password to check.
  const signature = /^signature rejected/.test(text);
  const hint = answer.status === 401 && !signature ? ' (check SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS)' : '';
  const edge = answer.ngrokErrorCode ? ` from the tunnel's edge (${answer.ngrokErrorCode})` : '';
  return `it answered ${answer.status}${edge}${text ? ` "${text}"` : ''}${hint}`;
}

/**
 * The shared rule (shared/delivery-decision.ts) applied to one answer: null when the sink itself answered and
 * the caller reads it, else another attempt (away) or a final failure.
 */
function judged(answer: SinkAnswer): Attempt<never> | null {
  if (answer.kind === 'network') {
    const verdict = judgeReply(answer);
    const cause = verdict.verdict === 'away' ? verdict.cause : 'network error';
    return { kind: 'retry', reason: answer.timedOut ? 'timeout' : 'unreachable', detail: answer.detail, cause };
  }
  const verdict = judgeReply({ kind: 'response', status: answer.status, ngrokErrorCode: answer.ngrokErrorCode });
  if (verdict.verdict === 'answered') return null;
  const { cause } = verdict as { cause: string };
  if (verdict.verdict === 'final') return { kind: 'fail', reason: 'refused', detail: said(answer), cause };
  const reason: ForwardFailure = verdict.cause.startsWith('ERR_NGROK_') ? 'tunnel-offline' : 'server-error';
  return { kind: 'retry', reason, detail: said(answer), cause, retryAfterMs: retryAfterMs(answer.retryAfter) };
}

/** The body as sent: the bytes received when the host has them, else the parsed body as compact JSON. */
export function payloadOf(body: unknown, raw?: RawBody): RawBody {
  return raw ?? { text: JSON.stringify(body ?? null), contentType: 'application/json' };
}

/**
 * How a host calls the sink: `ping: false` skips the ping, for a host that pinged once for a batch of
 * deliveries (the Worker's outbox); every other host pings before each POST.
 */
export interface ForwardOptions {
  ping?: boolean;
}

/** `GET /ping` until it answers `PONG`, with the retries and deadline of one delivery. */
export async function pingSink(
  config: ForwardConfig,
  transport: SinkTransport,
  clock: Clock = systemClock,
): Promise<Result<{ attempts: number }, ForwardFailure> | NotDelivered> {
  return ping(config, transport, budgetOf(config, clock));
}

function budgetOf(config: ForwardConfig, clock: Clock): Budget {
  return {
    maxAttempts: config.maxAttempts,
    deadline: clock.now() + config.deadlineMs,
    deadlineMs: config.deadlineMs,
    clock,
  };
}

async function ping(
  config: ForwardConfig,
  transport: SinkTransport,
  budget: Budget,
): Promise<Result<{ attempts: number }, ForwardFailure> | NotDelivered> {
  const pingUrl = `${config.sinkUrl}/ping`;
  const pinged = await withRetries<true>(async (timeoutMs) => {
    const answer = await transport({
      method: 'GET',
      url: pingUrl,
      auth: config.auth,
      headers: SINK_HEADERS,
      timeoutMs,
    });
    const verdict = judged(answer);
    if (verdict) return verdict;
    const response = answer as Response;
    if (response.text.trim() === 'PONG') return { kind: 'done', value: true };
    const detail = `it answered ${response.status} "${sinkMessage(response.text)}" instead of PONG`;
    return { kind: 'fail', reason: 'not-pong', detail, cause: 'not PONG' };
  }, budget);
  if (!pinged.ok) {
    return { ...(pinged as NotDelivered), message: `the sink is not reachable at ${pingUrl}: ${pinged.message}` };
  }
  return ok({ attempts: pinged.value.attempts });
}

export async function forwardToSink(
  body: unknown,
  config: ForwardConfig,
  transport: SinkTransport,
  clock: Clock = systemClock,
  raw?: RawBody,
  options: ForwardOptions = {},
): Promise<Result<Delivered, ForwardFailure> | NotDelivered> {
  const budget = budgetOf(config, clock);
  let pingAttempts = 0;
  if (options.ping !== false) {
    const pinged = await ping(config, transport, budget);
    if (!pinged.ok) return pinged;
    pingAttempts = pinged.value.attempts;
  }

  const payload = payloadOf(body, raw);
  const headers = payload.signedHeaders
    ? { ...SINK_HEADERS, [SIGNED_HEADERS_HEADER]: payload.signedHeaders }
    : SINK_HEADERS;
  const postUrl = `${config.sinkUrl}/receive-webhooks`;
  const post = await withRetries(async (timeoutMs) => {
    const answer = await transport({
      method: 'POST',
      url: postUrl,
      auth: config.auth,
      body: payload.text,
      contentType: payload.contentType,
      headers,
      timeoutMs,
    });
    const verdict = judged(answer);
    if (verdict) return verdict;
    const response = answer as Response;
    return { kind: 'done', value: parseStoredReply(response.text, response) };
  }, budget);
  if (!post.ok) {
    const failed = post as NotDelivered;
    const what = failed.away ? 'the sink did not store the webhook' : 'the sink refused the webhook';
    return { ...failed, message: `${what} at ${postUrl}: ${failed.message}` };
  }
  return ok({ ...post.value.value, attempts: { ping: pingAttempts, post: post.value.attempts } });
}
