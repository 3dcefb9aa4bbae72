import type { ValidateConfig } from './config.js';
import type { DigestCheck } from './digest.js';
import { verify, type HeaderBag, type VerifyResult } from './signature.js';

/**
 * Every host verifies a delivery the same way and says what it saw: which headers the signature covered, which
 * digest it carried and whether the body matched it, where the body bytes came from, and the outcome. The report
 * holds no body, MAC or secret, so a host may keep and show it (the Pipedream step exports it, the Worker and the
 * sink keep the last ones for GET /check): it is how a user learns what a real UP42 delivery signs.
 */

/** The raw bytes as received, the parsed body serialised again (a host without the bytes), or no body at all. */
export type BodySource = 'raw' | 'reserialised' | 'none';

export interface VerificationReport {
  /** ISO 8601, when the host checked it. */
  at: string;
  outcome: 'accepted' | 'ignored' | 'rejected';
  /** The rejection's reason (a VerifyFailure) or why it was ignored; null when accepted. */
  reason: string | null;
  /** The rejection's message; null otherwise. */
  message: string | null;
  signature: {
    verified: boolean;
    /** The covered headers in signing order; null when the signature-input could not be read. */
    components: string[] | null;
    digest: DigestCheck | null;
    dateCovered: boolean | null;
    /** What made an accepted signature weak (accepted only with UP42_ACCEPT_WEAK_SIGNATURES=yes). */
    weaknesses: string[];
    secret: 'current' | 'previous' | null;
  };
  body: BodySource;
  /** From the body as received, whatever the outcome (so unverified when rejected); each cut at 200 characters. */
  event: string | null;
  status: string | null;
  liveMode: boolean | null;
  messageId: string | null;
}

export interface DeliveryInput {
  headers: HeaderBag;
  /** The parsed body. */
  body: unknown;
  /** The body exactly as received, when the host has it. */
  rawBody?: string | Uint8Array | undefined;
}

const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : null);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields a report names the delivery by, read from any body without trusting it. */
function described(body: unknown): Pick<VerificationReport, 'event' | 'status' | 'liveMode' | 'messageId'> {
  const b = isObject(body) ? body : {};
  const inner = isObject(b.body) ? b.body : {};
  return {
    event: text(b.event),
    status: text(inner.status),
    liveMode: typeof b.liveMode === 'boolean' ? b.liveMode : null,
    messageId: text(b.messageId),
  };
}

/**
 * Verifies a delivery as the configuration says (secrets, window, weak signatures) and reports it. The digest is
 * checked against the raw bytes; without them, against the parsed body serialised again as compact JSON, and a
 * mismatch then says so. `checkTime` false skips the window (test mode, or a delivery a forwarder parked).
 */
export function verifyDelivery(
  input: DeliveryInput,
  config: Pick<ValidateConfig, 'secrets' | 'maxAgeSeconds' | 'maxFutureSeconds' | 'acceptWeakSignatures'>,
  now: { seconds: number; iso: string },
  checkTime: boolean,
): { result: VerifyResult; report: VerificationReport } {
  const body: BodySource = input.rawBody !== undefined ? 'raw' : input.body === undefined ? 'none' : 'reserialised';
  const rawBody = body === 'reserialised' ? JSON.stringify(input.body) : input.rawBody;
  let result = verify({
    headers: input.headers,
    secrets: config.secrets,
    now: now.seconds,
    rawBody,
    maxAgeSeconds: config.maxAgeSeconds,
    maxFutureSeconds: config.maxFutureSeconds,
    checkTime,
    acceptWeakSignatures: config.acceptWeakSignatures,
  });
  if (!result.ok && result.reason === 'digest-mismatch' && body === 'reserialised') {
    const why =
      ' (checked against the parsed body serialised again as compact JSON, since the host had no raw body: ' +
      'a sender whose JSON is formatted otherwise fails here)';
    result = { ...result, message: result.message + why };
  }
  const signature: VerificationReport['signature'] = result.ok
    ? {
        verified: true,
        components: result.value.components,
        digest: result.value.digest,
        dateCovered: result.value.dateCovered,
        weaknesses: result.value.weaknesses,
        secret: result.value.secretIndex === 0 ? 'current' : 'previous',
      }
    : {
        verified: false,
        components: result.seen.components,
        digest: result.seen.digest,
        dateCovered: result.seen.components === null ? null : result.seen.components.includes('date'),
        weaknesses: [],
        secret: null,
      };
  const report: VerificationReport = {
    at: now.iso,
    outcome: result.ok ? 'accepted' : 'rejected',
    reason: result.ok ? null : result.reason,
    message: result.ok ? null : result.message,
    signature,
    body,
    ...described(input.body),
  };
  return { result, report };
}

/** The newest `max` reports, newest first, with `report` added: what a host keeps to show. */
export function keepReport(
  reports: readonly VerificationReport[],
  report: VerificationReport,
  max = 20,
): VerificationReport[] {
  return [report, ...reports].slice(0, max);
}
