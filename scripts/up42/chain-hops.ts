import type { VerificationReport } from '../../shared/verification-report.js';

/**
 * What `connect` and `doctor` say about each hop of the chain (UP42 → forwarder → sink): one line each, and for a
 * failed hop the fix. Pure: text from what was found.
 */
export type ForwarderKind = 'worker' | 'pipedream' | 'sink';

export interface Hop {
  ok: boolean | null;
  line: string;
}

export const passed = (line: string): Hop => ({ ok: true, line });
export const failed = (line: string, fix: string): Hop => ({ ok: false, line: `FAILED ${line}; fix: ${fix}` });
/** A hop this command cannot see, neither passed nor failed. */
export const unseen = (line: string): Hop => ({ ok: null, line });

/** The one command (or setting) that puts the secret on the host that verifies. */
export function secretOnHost(kind: ForwarderKind): string {
  if (kind === 'worker') return 'npx wrangler secret put UP42_WEBHOOK_SECRET (paste the value from .env)';
  if (kind === 'pipedream') return "set UP42_WEBHOOK_SECRET in the Pipedream workflow's environment variables";
  return 'restart the sink (npm start reads UP42_WEBHOOK_SECRET from .env)';
}

const host = (kind: ForwarderKind) => (kind === 'sink' ? 'the sink' : kind === 'worker' ? 'the Worker' : 'Pipedream');

/** What a rejection means for a delivery that UP42 itself sent, and what to do. */
function fixFor(report: VerificationReport, kind: ForwarderKind): string {
  switch (report.reason) {
    case 'mac-mismatch':
    case 'no-secret':
      return `${host(kind)} has another secret than UP42's webhook: ${secretOnHost(kind)}, then run connect again`;
    case 'weak-signature':
      return (
        "UP42's delivery signs no body digest, so its signature does not protect the body; read the README's " +
        '"Signatures UP42 sends" before setting UP42_ACCEPT_WEAK_SIGNATURES=yes'
      );
    case 'digest-mismatch':
      return report.body === 'reserialised'
        ? "the host had no raw body and UP42's JSON is formatted otherwise: map steps.trigger.raw_event.body_b64"
        : 'something between UP42 and the host changed the body: forward it unchanged';
    case 'stale':
    case 'future':
      return `the clock of ${host(kind)} is off: turn on network time synchronisation`;
    default:
      return 'something between UP42 and the host strips or changes headers: send them on unchanged';
  }
}

/** "signed content-type, date, content-digest; sha-256 digest matched the raw body". */
export function describeSignature(report: VerificationReport): string {
  const covered = report.signature.components;
  const signed = covered === null ? 'signature-input unreadable' : `signed ${covered.join(', ')}`;
  const digest = report.signature.digest;
  const bytes = report.body === 'raw' ? 'the raw body' : 'the body serialised again (no raw body)';
  const checked =
    digest === null
      ? 'no body digest checked'
      : `${digest.algorithms.join('+')} ${digest.header} ${digest.matched ? 'matched' : 'did not match'} ${bytes}`;
  const date = report.signature.dateCovered === false ? '; no signed date' : '';
  return `${signed}; ${checked}${date}`;
}

/** The verification hop, from the report of UP42's test event (or its absence). */
export function verificationHop(kind: ForwarderKind, report: VerificationReport | null, waitedS: number): Hop {
  const who = host(kind);
  if (report === null) {
    return failed(
      `${who}: no verification report of UP42's test event within ${waitedS} s`,
      `check that UP42 delivers to the URL (its test results above) and that SINK_BASIC_AUTH_USER/PASS match ${who}'s`,
    );
  }
  const what = `${report.event ?? 'event'} ${report.status ?? ''} (test event)`.replace('  ', ' ');
  if (report.outcome === 'rejected') {
    return failed(`${who} refused ${what}: ${report.reason} (${describeSignature(report)})`, fixFor(report, kind));
  }
  const then = report.outcome === 'ignored' ? `, then ignored it as configured (${report.reason})` : ', then took it';
  return passed(`${who} verified ${what}: ${describeSignature(report)}${then}`);
}
