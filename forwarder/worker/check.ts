import type { VerificationReport } from '../../shared/verification-report.js';

/**
 * `GET /check`: without credentials, whether the Worker's settings hold (`{ ok }`, or the problems), which is
 * what docs/cloudflare.md's check after a deploy reads; with the sink's credentials, also the outbox's state.
 * Kept in a function of its own so further checks (a list of verifications) join the same answer.
 */

/** The outbox as `GET /check` shows it: counts, caps, the sink as last seen, and the rows billed so far. */
export interface OutboxState {
  waiting: number;
  /** Of those waiting, the ones that stepped aside from the line (refused with 5xx while the sink answered). */
  aside: number;
  waitingBytes: number;
  maxWaiting: number;
  maxWaitingBytes: number;
  /** Why a new delivery would be answered 507, or null while there is room. */
  full: string | null;
  failed: number;
  delivered: number;
  sink: { away: boolean; since: string | null; cause: string | null; nextTryAt: string | null };
  /** Rows read and written by the outbox since its object started (Cloudflare bills both). */
  storage: { rowsRead: number; rowsWritten: number };
}

export type ConfigCheck = { ok: true } | { ok: false; reason: 'invalid-config'; message: string };

/**
 * The settings; with the credentials, the outbox and the last verifications too: what the Worker saw of UP42's
 * signatures (no body, MAC or secret), newest first, which `npm run up42 -- connect` reads.
 */
export function checkAnswer(
  config: ConfigCheck,
  outbox: OutboxState | null,
  verifications: readonly VerificationReport[] = [],
) {
  return outbox === null ? config : { ...config, ok: config.ok && outbox.full === null, outbox, verifications };
}
