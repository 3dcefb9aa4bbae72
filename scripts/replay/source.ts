import { request } from 'undici';
import { describeNetworkError } from '../cli/network-error.js';
import { oneLine } from '../cli/text.js';
import { basicAuthorization } from '../cli/basic-auth.js';
import type { ReplayFilter } from './options.js';

/** One webhook as the sink's dump gives it, its body exactly as the sink sends it back. */
export interface StoredWebhook {
  key: number;
  event: string | null;
  status: string | null;
  messageId: string | null;
  /** Whether the sink verified UP42's signature on it when it arrived (its envelope's `verified`). */
  verified: boolean;
  body: string;
}

/** Where the body starts in an envelope line: `{"key":…,"liveMode":…,"body":<the body as stored>}`. */
const BODY_MARK = ',"body":';

/**
 * An envelope line of the dump, its body cut out of the line as bytes rather than parsed and serialised again,
 * so it is replayed exactly as the sink holds it. The head's strings are JSON strings, in which `"` is escaped,
 * so the first `,"body":` is the body's key. null for the count line and anything else.
 */
export function parseEnvelopeLine(line: string): StoredWebhook | null {
  const mark = line.indexOf(BODY_MARK);
  if (mark < 0 || !line.endsWith('}')) return null;
  let head: Record<string, unknown>;
  try {
    head = JSON.parse(`${line.slice(0, mark)}}`) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof head.key !== 'number') return null;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    key: head.key,
    event: text(head.event),
    status: text(head.status),
    messageId: text(head.messageId),
    verified: head.verified === true,
    body: line.slice(mark + BODY_MARK.length, -1),
  };
}

/** The dump's query for a filter, envelopes on, oldest first. */
export function dumpUrl(from: string, filter: ReplayFilter): string {
  const url = new URL('/dump-webhooks', `${from}/`);
  url.searchParams.set('envelope', 'true');
  for (const [name, value] of Object.entries(filter))
    if (value !== undefined) url.searchParams.set(name, String(value));
  return url.toString();
}

export type SourceResult = { ok: true; webhooks: StoredWebhook[] } | { ok: false; message: string };

/** Reads the matching webhooks from the sink's dump. A dump cut short is an error, never a partial list. */
export async function readStoredWebhooks(options: {
  from: string;
  auth: { user: string; pass: string } | null;
  filter: ReplayFilter;
  timeoutMs: number;
}): Promise<SourceResult> {
  const url = dumpUrl(options.from, options.filter);
  const headers: Record<string, string> = {};
  if (options.auth) headers.authorization = basicAuthorization(options.auth);
  let text: string;
  try {
    const response = await request(url, { headers, signal: AbortSignal.timeout(options.timeoutMs) });
    text = await response.body.text();
    if (response.statusCode === 401) {
      return {
        ok: false,
        message: `${options.from} refused the credentials (set SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS)`,
      };
    }
    if (response.statusCode !== 200) {
      return { ok: false, message: `${options.from} answered ${response.statusCode} ${oneLine(text, 200)}` };
    }
  } catch (error) {
    return { ok: false, message: describeNetworkError(error, options.from).message };
  }
  const lines = text.split('\n').filter((line) => line !== '');
  const last = lines.pop();
  const count = last === undefined ? null : /^\{"number_webhooks_received": ([0-9]+)\}$/.exec(last);
  const webhooks = lines.map(parseEnvelopeLine);
  if (count === null || Number(count[1]) !== webhooks.length || webhooks.some((w) => w === null)) {
    return { ok: false, message: `the dump of ${options.from} was cut short or is not the sink's: nothing was sent` };
  }
  return { ok: true, webhooks: webhooks as StoredWebhook[] };
}
