import { parseForwardConfig, type ForwardConfig } from '../shared/config.js';
import type { Env } from '../shared/env.js';
import { fail, ok, type Result } from '../shared/result.js';
import { stepError } from './errors.js';
import type { StepContext } from './pipedream.js';

/**
 * The forward step: `GET /ping` must answer `200 PONG`, then `POST /receive-webhooks` with the body.
 * Network errors, 429 and 5xx are retried with exponential backoff and jitter, every attempt with its own
 * timeout, all within `deadlineMs` (below Pipedream's step timeout). Retrying a POST is safe because the sink
 * stores each `messageId` once.
 */

/** One HTTP exchange as the step sees it. */
export interface SinkRequest {
  method: 'GET' | 'POST';
  url: string;
  auth: ForwardConfig['auth'];
  /** JSON text. */
  body?: string;
  timeoutMs: number;
}

/** What came back: a response (any status, body as text) or no response at all. */
export type SinkAnswer =
  | { kind: 'response'; status: number; text: string; retryAfter?: string }
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

export type ForwardFailure = 'unreachable' | 'not-pong' | 'refused' | 'timeout' | 'server-error';

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
  | { kind: 'retry'; reason: ForwardFailure; detail: string; retryAfterMs?: number }
  | { kind: 'fail'; reason: ForwardFailure; detail: string };

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
): Promise<Result<{ value: T; attempts: number }, ForwardFailure>> {
  const { clock } = budget;
  for (let n = 1; ; n++) {
    const remaining = budget.deadline - clock.now();
    if (remaining < MIN_ATTEMPT_MS) return fail('timeout', `no time left within the ${budget.deadlineMs} ms budget`);
    const outcome = await attempt(Math.min(remaining, attemptTimeoutMs(budget.deadlineMs)));
    if (outcome.kind === 'done') return ok({ value: outcome.value, attempts: n });
    if (outcome.kind === 'fail') return fail(outcome.reason, outcome.detail);
    if (n >= budget.maxAttempts) return fail(outcome.reason, `${outcome.detail} (gave up after ${plural(n)})`);
    const delay = Math.max(backoffMs(n, clock.random()), outcome.retryAfterMs ?? 0);
    if (clock.now() + delay + MIN_ATTEMPT_MS > budget.deadline) {
      return fail(outcome.reason, `${outcome.detail} (gave up after ${plural(n)}: no time left within the ${budget.deadlineMs} ms budget)`);
    }
    await clock.sleep(delay);
  }
}

/** A short, single-line rendering of what the sink said: its `msg` when it sent JSON. */
export function sinkMessage(text: string): string {
  let message = text;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { msg?: unknown }).msg === 'string') {
      message = (parsed as { msg: string }).msg;
    }
  } catch {
    // Not JSON: the text itself.
  }
  message = message.replace(/\s+/g, ' ').trim();
  return message.length > 200 ? `${message.slice(0, 200)}...` : message;
}

function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*[0-9]+\s*$/.test(value)) return undefined;
  return Number(value) * 1000;
}

/** Network errors, 429 and 5xx are worth another attempt; every other answer is final. */
function transient(answer: SinkAnswer & { kind: 'response' }): Attempt<never> | null {
  if (answer.status === 429 || answer.status >= 500) {
    const said = sinkMessage(answer.text);
    const retryAfter = retryAfterMs(answer.retryAfter);
    return {
      kind: 'retry',
      reason: 'server-error',
      detail: `it answered ${answer.status}${said ? ` "${said}"` : ''}`,
      ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
    };
  }
  return null;
}

function networkRetry(answer: SinkAnswer & { kind: 'network' }): Attempt<never> {
  return { kind: 'retry', reason: answer.timedOut ? 'timeout' : 'unreachable', detail: answer.detail };
}

/** Parses `value with key N stored` / `value with key N already stored`. */
export function parseStoredReply(text: string): { reply: unknown; key: number | null; duplicate: boolean } {
  let reply: unknown = text;
  try {
    reply = JSON.parse(text);
  } catch {
    // Kept as text.
  }
  const match = /key\s+([0-9]+)\s+(already\s+)?stored/i.exec(sinkMessage(text));
  return { reply, key: match ? Number(match[1]) : null, duplicate: Boolean(match?.[2]) };
}

export async function forwardToSink(
  body: unknown,
  config: ForwardConfig,
  transport: SinkTransport,
  clock: Clock = systemClock,
): Promise<Result<Delivered, ForwardFailure>> {
  const deadline = clock.now() + config.deadlineMs;
  const budget: Budget = { maxAttempts: config.maxAttempts, deadline, deadlineMs: config.deadlineMs, clock };
  const pingUrl = `${config.sinkUrl}/ping`;

  const ping = await withRetries<true>(async (timeoutMs) => {
    const answer = await transport({ method: 'GET', url: pingUrl, auth: config.auth, timeoutMs });
    if (answer.kind === 'network') return networkRetry(answer);
    const retry = transient(answer);
    if (retry) return retry;
    if (answer.status === 200 && answer.text.trim() === 'PONG') return { kind: 'done', value: true };
    if (answer.status === 200) {
      return { kind: 'fail', reason: 'not-pong', detail: `it answered 200 "${sinkMessage(answer.text)}" instead of PONG` };
    }
    const hint = answer.status === 401 ? ' (check SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS)' : '';
    const said = sinkMessage(answer.text);
    return { kind: 'fail', reason: answer.status === 401 ? 'refused' : 'unreachable', detail: `it answered ${answer.status}${said ? ` "${said}"` : ''}${hint}` };
  }, budget);
  if (!ping.ok) return fail(ping.reason, `the sink is not reachable at ${pingUrl}: ${ping.message}`);

  const payload = JSON.stringify(body ?? null);
  const postUrl = `${config.sinkUrl}/receive-webhooks`;
  const post = await withRetries(async (timeoutMs) => {
    const answer = await transport({ method: 'POST', url: postUrl, auth: config.auth, body: payload, timeoutMs });
    if (answer.kind === 'network') return networkRetry(answer);
    const retry = transient(answer);
    if (retry) return retry;
    if (answer.status >= 200 && answer.status < 300) return { kind: 'done', value: parseStoredReply(answer.text) };
    const said = sinkMessage(answer.text);
    const hint = answer.status === 401 ? ' (check SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS)' : '';
    return { kind: 'fail', reason: 'refused', detail: `it answered ${answer.status}${said ? ` "${said}"` : ''}${hint}` };
  }, budget);
  if (!post.ok) {
    const what = post.reason === 'refused' ? 'the sink refused the webhook' : 'the sink did not store the webhook';
    return fail(post.reason, `${what} at ${postUrl}: ${post.message}`);
  }
  return ok({ ...post.value.value, attempts: { ping: ping.value.attempts, post: post.value.attempts } });
}

/** The step: configuration, delivery, exports; a failure is thrown, never swallowed. */
export async function forwardStep(
  body: unknown,
  $: StepContext,
  env: Env,
  transport: SinkTransport,
  clock: Clock = systemClock,
): Promise<Delivered> {
  const config = parseForwardConfig(env);
  if (!config.ok) {
    $.export('$summary', 'configuration error');
    throw stepError('config', 'invalid-config', config.message);
  }
  const delivered = await forwardToSink(body, config.value, transport, clock);
  if (!delivered.ok) {
    $.export('$summary', `not delivered: ${delivered.reason}`);
    throw stepError('sink', delivered.reason, delivered.message);
  }
  const { key, duplicate, reply } = delivered.value;
  $.export('sink', reply);
  $.export('attempts', delivered.value.attempts);
  $.export('$summary', key === null ? `delivered; the sink answered "${sinkMessage(typeof reply === 'string' ? reply : JSON.stringify(reply))}"` : duplicate ? `already stored as key ${key}` : `stored as key ${key}`);
  return delivered.value;
}
