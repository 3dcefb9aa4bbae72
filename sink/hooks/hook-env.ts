import { jobIdOf, orderIdOf } from '../../shared/events.js';
import { ENV_VARS, type EnvVar } from '../../shared/env.js';
import type { StoredRecord } from '../store/types.js';

/**
 * The hook's environment: the sink's own, less every secret of the sink and the forwarder, plus the webhook's
 * variables, each cleaned so that no webhook can make the command fail to start. Pure.
 */

/**
 * A variable holds at most this many characters of a webhook's value. Linux refuses to start a process with
 * any one environment string over 128 KiB (E2BIG), and no id or status of UP42's comes near 4 KiB; the whole
 * body is on the command's standard input anyway.
 */
export const MAX_ENV_VALUE_CHARS = 4096;

/** NUL cannot be passed in an environment at all; the other control characters would garble a shell or a log. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

export const cleanEnvValue = (value: string): string => value.replace(CONTROL, '').slice(0, MAX_ENV_VALUE_CHARS);

/**
 * Secrets of the sink and the forwarder by name, aliases included, with PostgreSQL's password variables: the
 * command is the user's, but it needs neither the store's password nor the tunnel's token nor the webhook
 * secret, and a hook that leaks its environment (a log, a crash report) would leak them. UP42_USERNAME and
 * UP42_PASSWORD stay: a hook that calls UP42 (scripts/hooks/download-order-assets.ts) signs in with them.
 */
const DROPPED = new Set([
  ...(ENV_VARS as readonly EnvVar[])
    .filter((v) => v.secret === true && (v.parts.includes('sink') || v.parts.includes('forwarder')))
    .filter((v) => v.name !== 'SINK_DATABASE_URL')
    .flatMap((v) => (v.alias === undefined ? [v.name] : [v.name, v.alias])),
  'PGPASSWORD',
  'PGSSLPASSWORD',
]);
const isDropped = (name: string) => DROPPED.has(name) || /^UP42_WEBHOOK_SECRET/i.test(name);

/** SINK_DATABASE_URL without its password, so a hook can still query the team's table (with PGPASSFILE, say). */
function withoutPassword(url: string): string | null {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    for (const name of ['password', 'sslpassword']) parsed.searchParams.delete(name);
    return parsed.toString();
  } catch {
    return null; // not a URL this code can take a password out of: not passed on at all
  }
}

export function hookEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || isDropped(name)) continue;
    if (name !== 'SINK_DATABASE_URL') out[name] = value;
    else {
      const url = withoutPassword(value);
      if (url !== null) out[name] = url;
    }
  }
  return out;
}

/** The parsed body, for UP42's ids (shared/events.ts reads both spellings of a job's id); null if unreadable. */
function parsedBody(record: StoredRecord): unknown {
  try {
    return JSON.parse(record.body.toString('utf8'));
  } catch {
    return null; // the sink stores JSON only; a body it cannot read gives no ids
  }
}

/** What the command finds in its environment about the webhook; values only, never the command line. */
export function webhookEnv(record: StoredRecord): Record<string, string> {
  const env: Record<string, string> = {
    WEBHOOK_KEY: String(record.key),
    WEBHOOK_EVENT: record.event ?? '',
    WEBHOOK_STATUS: record.status ?? '',
    WEBHOOK_LIVE_MODE: record.liveMode === null ? '' : String(record.liveMode),
    WEBHOOK_MESSAGE_ID: record.messageId ?? '',
    WEBHOOK_RECEIVED_AT: record.receivedAt,
  };
  const payload = parsedBody(record);
  const orderId = orderIdOf(payload);
  const jobId = jobIdOf(payload);
  if (orderId !== null) env.UP42_ORDER_ID = orderId;
  if (jobId !== null) env.UP42_JOB_ID = jobId;
  for (const name of Object.keys(env)) env[name] = cleanEnvValue(env[name]!);
  return env;
}
