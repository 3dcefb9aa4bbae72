import { fail, ok, type Result } from './result.js';

/** Statuses worth a notification, in canonical form (upper case, underscores). */
export const DEFAULT_NOTIFY_STATUSES: readonly string[] = [
  // job.status
  'ERROR',
  'FAILED',
  'CANCELLED',
  'SUCCEEDED',
  // order.status
  'FAILED_PERMANENTLY',
  'FULFILLED',
];

/** UP42 writes `FAILED_PERMANENTLY` in its API and `FAILED PERMANENTLY` elsewhere: both are one status. */
export function normalizeStatus(status: string): string {
  return status
    .trim()
    .toUpperCase()
    .replace(/[\s_]+/g, '_');
}

/** Parses a comma-separated status list, as `UP42_NOTIFY_STATUSES` holds it. */
export function parseStatusList(csv: string): Result<ReadonlySet<string>, 'empty-status-list'> {
  const statuses = csv
    .split(',')
    .map(normalizeStatus)
    .filter((s) => s.length > 0);
  if (statuses.length === 0)
    return fail('empty-status-list', 'the status list is empty: no webhook would ever be forwarded');
  return ok(new Set(statuses));
}

export type Classification =
  | { action: 'notify'; event: string; status: string; liveMode: boolean; messageId?: string }
  | { action: 'ignore'; reason: string; event?: string; status?: string; liveMode?: boolean; messageId?: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * Decides whether a UP42 delivery is worth forwarding. Test events (`liveMode: false`) pass only in test
 * mode; in test mode the status filter is skipped too. Never throws, whatever the payload.
 */
export function classify(
  payload: unknown,
  options: { statuses: ReadonlySet<string>; testMode: boolean },
): Classification {
  if (!isObject(payload)) return { action: 'ignore', reason: 'the payload is not a JSON object' };
  const event = str(payload.event);
  const messageId = str(payload.messageId);
  const liveMode = typeof payload.liveMode === 'boolean' ? payload.liveMode : undefined;
  const body = payload.body;
  const rawStatus = isObject(body) ? str(body.status) : undefined;
  const known = { event, messageId, liveMode };
  if (rawStatus === undefined || rawStatus.trim() === '') {
    return { action: 'ignore', reason: 'the payload has no body.status', ...known };
  }
  const status = normalizeStatus(rawStatus);
  if (options.testMode)
    return { action: 'notify', event: event ?? 'unknown', status, liveMode: liveMode ?? false, messageId };
  if (liveMode !== true) {
    return { action: 'ignore', reason: 'a test event (liveMode is not true) and test mode is off', ...known, status };
  }
  if (!options.statuses.has(status)) {
    return { action: 'ignore', reason: `status ${status} is not in the notify list`, ...known, status };
  }
  return { action: 'notify', event: event ?? 'unknown', status, liveMode, messageId };
}
