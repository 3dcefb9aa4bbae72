import type { IncomingHttpHeaders } from 'node:http';
import type { ValidateConfig } from '../shared/config.js';
import type { HeaderBag } from '../shared/signature.js';
import { SIGNED_HEADERS_HEADER, unpackSignedHeaders } from '../shared/signed-headers.js';
import { classify } from '../shared/status.js';
import { keepReport, verifyDelivery, type VerificationReport } from '../shared/verification-report.js';

/**
 * The sink's own check of UP42's signature, when UP42_WEBHOOK_SECRET is set on it. A delivery through a forwarder
 * carries UP42's signature in the `X-Up42-Signed-Headers` header (shared/signed-headers.ts) and is checked without
 * the time window: a parked delivery arrives late, and its messageId is stored once anyway. A delivery straight
 * from UP42 (direct mode: no credentials, UP42's own headers) is checked as a forwarder checks it, window, status
 * filter and test mode included. Either way the digest is checked against the very bytes stored, so a leaked tunnel
 * password lets no one store a webhook UP42 did not sign. The last reports are kept for GET /check.
 */
export type SignatureOutcome =
  | { action: 'store'; verified: true; signed: string[] }
  | { action: 'reject'; reason: string; message: string }
  | { action: 'ignore'; reason: string };

export interface SignatureCheck {
  /** Whether the sink has a secret to check with. */
  readonly enabled: boolean;
  /** Whether a request without credentials is UP42's own delivery to take in direct mode. */
  isDirect(headers: IncomingHttpHeaders): boolean;
  check(headers: IncomingHttpHeaders, raw: Buffer, parsed: unknown, direct: boolean): SignatureOutcome;
  /** The newest reports first, at most 20: what the sink saw of UP42's signatures. */
  reports(): readonly VerificationReport[];
}

export function createSignatureCheck(config: ValidateConfig | null, now: () => number = Date.now): SignatureCheck {
  let reports: VerificationReport[] = [];
  const carrier = (headers: IncomingHttpHeaders) => {
    const value = headers[SIGNED_HEADERS_HEADER];
    return typeof value === 'string' ? value : undefined;
  };
  const note = (report: VerificationReport) => {
    reports = keepReport(reports, report);
  };
  return {
    enabled: config !== null,
    isDirect: (headers) =>
      config !== null &&
      headers.authorization === undefined &&
      carrier(headers) === undefined &&
      headers.signature !== undefined,
    check(headers, raw, parsed, direct) {
      if (config === null) return { action: 'reject', reason: 'no-secret', message: 'no webhook secret is configured' };
      const packed = carrier(headers);
      let bag: HeaderBag = headers;
      if (packed !== undefined) {
        const unpacked = unpackSignedHeaders(packed);
        if (!unpacked.ok) return { action: 'reject', reason: 'malformed-signature', message: unpacked.message };
        bag = unpacked.value;
      }
      const at = now();
      const clock = { seconds: Math.floor(at / 1000), iso: new Date(at).toISOString() };
      const checkTime = direct && !config.testMode;
      const { result, report } = verifyDelivery({ headers: bag, body: parsed, rawBody: raw }, config, clock, checkTime);
      if (!result.ok) {
        note(report);
        return { action: 'reject', reason: result.reason, message: result.message };
      }
      if (direct) {
        const decision = classify(parsed, { statuses: config.statuses, testMode: config.testMode });
        if (decision.action === 'ignore') {
          note({ ...report, outcome: 'ignored', reason: decision.reason });
          return { action: 'ignore', reason: decision.reason };
        }
      }
      note(report);
      return { action: 'store', verified: true, signed: result.value.components };
    },
    reports: () => reports,
  };
}
