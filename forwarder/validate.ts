import type { ValidateConfig } from '../shared/config.js';
import type { HeaderBag, Verified, VerifyFailure } from '../shared/signature.js';
import { classify } from '../shared/status.js';
import { verifyDelivery, type VerificationReport } from '../shared/verification-report.js';

/** What the validate step needs of a delivery. */
export interface Delivery {
  headers: HeaderBag;
  body: unknown;
  /** The body as received, when the trigger gives it (`steps.trigger.raw_event.body_b64`). */
  bodyRaw?: string | undefined;
}

export type ValidateDecision = (
  | { action: 'reject'; reason: VerifyFailure; message: string }
  | { action: 'ignore'; reason: string; event?: string; status?: string; liveMode?: boolean; messageId?: string }
  | { action: 'notify'; event: string; status: string; liveMode: boolean; messageId?: string; signature: Verified }
) & { report: VerificationReport };

/**
 * The signature first (nothing unverified is even classified), then the status filter. Pure. Every decision
 * carries its verification report, test events that are then ignored included: UP42's "send test event" proves
 * the signature path without storing anything.
 */
/** `now` in Unix seconds. */
export function decideDelivery(delivery: Delivery, config: ValidateConfig, now: number): ValidateDecision {
  // The bytes a signed digest is checked against: the body as received, which the forward step sends on
  // unchanged; only when the trigger gives no raw body, the parsed body serialised again, as the forward step will
  // then send it (compact JSON). A sender whose JSON is formatted otherwise is then rejected as digest-mismatch
  // (visible and replayable) rather than forwarded unchecked.
  const input = { headers: delivery.headers, body: delivery.body, rawBody: delivery.bodyRaw };
  // Test mode skips the time window only: the MAC, and the digest it must cover, are always checked.
  const { result, report } = verifyDelivery(
    input,
    config,
    { seconds: now, iso: new Date(now * 1000).toISOString() },
    !config.testMode,
  );
  if (!result.ok) return { action: 'reject', reason: result.reason, message: result.message, report };
  const decision = classify(delivery.body, { statuses: config.statuses, testMode: config.testMode });
  if (decision.action === 'ignore')
    return { ...decision, report: { ...report, outcome: 'ignored', reason: decision.reason } };
  return { ...decision, signature: result.value, report };
}
