import { parseValidateConfig, type ValidateConfig } from '../shared/config.js';
import type { Env } from '../shared/env.js';
import type { HeaderBag, Verified, VerifyFailure } from '../shared/signature.js';
import { verify } from '../shared/signature.js';
import { classify } from '../shared/status.js';
import { configurationError, stepError } from './errors.js';
import type { StepContext } from './pipedream.js';

/** What the validate step needs of a delivery. */
export interface Delivery {
  headers: HeaderBag;
  body: unknown;
  /** The body as received, when the trigger gives it (`steps.trigger.raw_event.body_b64`). */
  bodyRaw?: string | undefined;
}

export type ValidateDecision =
  | { action: 'reject'; reason: VerifyFailure; message: string }
  | { action: 'ignore'; reason: string; event?: string; status?: string; liveMode?: boolean; messageId?: string }
  | { action: 'notify'; event: string; status: string; liveMode: boolean; messageId?: string; signature: Verified };

/** The signature first (nothing unverified is even classified), then the status filter. Pure. */
export function decideDelivery(delivery: Delivery, config: ValidateConfig, now: number): ValidateDecision {
  const verified = verify({
    headers: delivery.headers,
    secrets: config.secrets,
    now,
    rawBody: signedBodyOf(delivery),
    maxAgeSeconds: config.maxAgeSeconds,
    maxFutureSeconds: config.maxFutureSeconds,
    // Test mode skips the time window only: the MAC is always checked.
    checkTime: !config.testMode,
  });
  if (!verified.ok) return { action: 'reject', reason: verified.reason, message: verified.message };
  const decision = classify(delivery.body, { statuses: config.statuses, testMode: config.testMode });
  if (decision.action === 'ignore') return decision;
  return { ...decision, signature: verified.value };
}

/**
 * The bytes a signed content digest is checked against: the body as received, which the forward step sends on
 * unchanged. Only when the trigger gives no raw body is the parsed body serialised again, as the forward step
 * will then send it (compact JSON): a sender whose JSON is formatted otherwise is rejected as digest-mismatch
 * (visible and replayable) rather than forwarded unchecked, since a signed digest nobody checks protects nothing.
 */
function signedBodyOf(delivery: Delivery): string | undefined {
  if (typeof delivery.bodyRaw === 'string') return delivery.bodyRaw;
  return delivery.body === undefined ? undefined : JSON.stringify(delivery.body);
}

export interface ValidatedEvent {
  event: string;
  status: string;
  liveMode: boolean;
  messageId: string | null;
}

/**
 * The validate step: throws on a configuration error or a rejected signature, ends the workflow on a status
 * nobody wants notified about, and exports what it learned otherwise.
 */
export function validateStep(delivery: Delivery, $: StepContext, env: Env, now: number): unknown {
  const config = parseValidateConfig(env);
  if (!config.ok) {
    $.export('$summary', 'configuration error');
    throw configurationError(config.message);
  }
  const decision = decideDelivery(delivery, config.value, Math.floor(now / 1000));
  if (decision.action === 'reject') {
    $.export('$summary', `signature rejected: ${decision.reason}`);
    throw stepError('signature', decision.reason, `signature rejected (${decision.reason}): ${decision.message}`);
  }
  const described = `${decision.event ?? 'unknown event'} ${decision.status ?? '(no status)'} (${decision.liveMode === true ? 'live' : decision.liveMode === false ? 'test' : 'liveMode unknown'})`;
  exportEvent($, decision);
  if (decision.action === 'ignore') {
    $.export('$summary', `${described} ignored: ${decision.reason}`);
    return $.flow.exit(`ignored: ${decision.reason}`);
  }
  const reserialised = decision.signature.digestChecked && typeof delivery.bodyRaw !== 'string';
  const how = reserialised ? ' (digest checked against the body serialised again: no raw body)' : '';
  $.export('$summary', `${described} verified${how}`);
  $.export('signature', {
    components: decision.signature.components,
    created: decision.signature.created,
    digestChecked: decision.signature.digestChecked,
    secret: decision.signature.secretIndex === 0 ? 'current' : 'previous',
  });
  return { event: decision.event, status: decision.status, liveMode: decision.liveMode, messageId: decision.messageId ?? null };
}

function exportEvent($: StepContext, decision: { event?: string; status?: string; liveMode?: boolean; messageId?: string }) {
  $.export('event', decision.event ?? null);
  $.export('status', decision.status ?? null);
  $.export('liveMode', decision.liveMode ?? null);
  $.export('messageId', decision.messageId ?? null);
}
