import { EVENT_TYPES, type Up42EventType } from '../../shared/events.js';
import type { Env } from '../../shared/env.js';
import { fail, ok, type Result } from '../../shared/result.js';
import {
  parseHttpUrl,
  type OptionValues,
  parseStrict,
  parseTimeoutSeconds,
  parseWholeNumber,
  signingSecret,
} from '../cli/args.js';
import { DEFAULT_STATUS } from './delivery.js';

export const USAGE = `usage: npm run send-test-event -- --url URL [options]

Sends UP42-style webhooks signed with UP42's published scheme (HMAC-SHA256 over the values of the headers that
signature-input lists), and prints each reply. Which headers UP42's own deliveries cover is not published: the
sender covers content-type, date and content-digest, an assumption (npm run up42 -- connect shows what a real
delivery covered). The forwarder requires a covered body digest; signatures without one are refused as
weak-signature unless UP42_ACCEPT_WEAK_SIGNATURES=yes.

  --url URL             where to POST (the Worker, a Pipedream endpoint, or the sink) [required]
  --event TYPE          job.status (default) or order.status
  --status STATUS       body.status (default SUCCEEDED for job.status, FULFILLED for order.status)
  --live                a live event (liveMode: true); the default is a test event
  --secret SECRET       signing secret (default: UP42_WEBHOOK_SECRET from the environment or .env)
  --unsigned            send without signature headers
  --created UNIX        the signature's created time, to try stale or future signatures (default: now)
  --file PAYLOAD.json   send this JSON instead of a sample event (a top-level messageId is renewed)
  --count N             number of deliveries (default 1)
  --concurrency C       deliveries in flight at once (default 1)
  --timeout SECONDS     per delivery (default 15)
  -h, --help            this text`;

export interface SendCliOptions {
  url: string;
  event: Up42EventType;
  status: string;
  liveMode: boolean;
  /** null: unsigned. */
  secret: string | null;
  created?: number;
  file?: string;
  count: number;
  concurrency: number;
  timeoutMs: number;
}

const OPTIONS = {
  url: { type: 'string' },
  event: { type: 'string' },
  status: { type: 'string' },
  live: { type: 'boolean' },
  secret: { type: 'string' },
  unsigned: { type: 'boolean' },
  created: { type: 'string' },
  file: { type: 'string' },
  count: { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const MAX_COUNT = 1_000_000;
export const MAX_CONCURRENCY = 1_000;

/** The sender's command line and environment, checked once. Every problem is named in one message. */
export function parseSendArgs(argv: readonly string[], env: Env): Result<SendCliOptions, 'usage' | 'help'> {
  const parsed = parseStrict(argv, OPTIONS, false);
  if (!parsed.ok) return parsed;
  const v = parsed.value.values as OptionValues<typeof OPTIONS>;
  if (v.help) return fail('help', USAGE);

  const problems: string[] = [];
  const url = v.url === undefined ? null : parseHttpUrl(v.url);
  if (v.url === undefined) problems.push('--url is required');
  else if (url === null) problems.push(`--url must be an http(s) URL, not "${v.url}"`);

  let event: Up42EventType = 'job.status';
  if (v.event !== undefined) {
    if ((EVENT_TYPES as readonly string[]).includes(v.event)) event = v.event as Up42EventType;
    else problems.push(`--event must be one of ${EVENT_TYPES.join(', ')}`);
  }
  if (v.status !== undefined && v.status.trim() === '') problems.push('--status must not be empty');
  if (v.file !== undefined && (v.event !== undefined || v.status !== undefined || v.live)) {
    problems.push('--file sends the file as it is: it cannot be combined with --event, --status or --live');
  }

  const secret = signingSecret(v, env, problems);

  const created = v.created === undefined ? undefined : parseWholeNumber(v.created, 0, 253_402_300_799);
  if (created === null) problems.push('--created must be a Unix time in whole seconds');
  const count = v.count === undefined ? 1 : parseWholeNumber(v.count, 1, MAX_COUNT);
  if (count === null) problems.push(`--count must be a whole number from 1 to ${MAX_COUNT}`);
  const concurrency = v.concurrency === undefined ? 1 : parseWholeNumber(v.concurrency, 1, MAX_CONCURRENCY);
  if (concurrency === null) problems.push(`--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}`);
  const timeoutMs = v.timeout === undefined ? 15_000 : parseTimeoutSeconds(v.timeout);
  if (timeoutMs === null) problems.push('--timeout must be a number of seconds from 0.001 to 600');

  if (problems.length > 0) return fail('usage', problems.join('; '));
  return ok({
    url: url!.toString(),
    event,
    status: v.status?.trim() ?? DEFAULT_STATUS[event],
    liveMode: v.live === true,
    secret,
    created: created ?? undefined,
    file: v.file,
    count: count!,
    concurrency: concurrency!,
    timeoutMs: timeoutMs!,
  });
}
