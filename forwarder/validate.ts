import type { ValidateConfig } from '../shared/config.js';
import type { HeaderBag, Verified, VerifyFailure } from '../shared/signature.js';
import { verify } from '../shared/signature.js';
import { classify } from '../shared/status.js';

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
    // Test mode skips the time window only: the MAC, and the date and digest it must cover, are always checked.
    checkTime: !config.testMode,
    acceptWeakSignatures: config.acceptWeakSignatures,
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
