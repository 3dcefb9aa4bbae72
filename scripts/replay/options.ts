import { describeName, readEnv, type Env } from '../../shared/env.js';
import { fail, ok, type Result } from '../../shared/result.js';
import {
  parseHttpUrl,
  type OptionValues,
  parseStrict,
  parseTimeoutSeconds,
  parseWholeNumber,
  signingSecret,
} from '../cli/args.js';

export const USAGE = `usage: npm run replay -- --to URL [options]

Sends webhooks stored in a sink to any URL again, each signed anew with UP42's scheme (only those the sink verified
as UP42's on arrival), and prints each answer.

  --to URL              where to POST them (the Worker, another sink, your own code) [required];
                        for basic auth give the user as http://USER@host/… or REPLAY_TO_USER, and the password
                        in REPLAY_TO_PASS (environment or .env), or type it when asked; never in --to
  --from URL            the sink to read them from (default http://127.0.0.1:9888); its user and password are
                        SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS from the environment or .env
  --event TYPE          only this event (job.status, order.status)
  --status STATUS       only this status (case, spaces and underscores do not matter)
  --live                only live events;  --test  only test events
  --since KEY           only keys after KEY;  --before KEY  only keys before KEY
  --limit N             at most N webhooks
  --secret SECRET       signing secret (default: UP42_WEBHOOK_SECRET from the environment or .env)
  --unsigned            send without signature headers
  --rate N              at most N webhooks a second (default 10)
  --dry-run             list what would be sent, send nothing
  --timeout SECONDS     per request (default 15)
  -h, --help            this text`;

export interface ReplayFilter {
  event?: string;
  status?: string;
  liveMode?: boolean;
  since?: number;
  before?: number;
  limit?: number;
}

export interface ReplayOptions {
  /** Without credentials: safe to print. */
  to: string;
  /** Basic auth for `to`: the user from its user-info part or REPLAY_TO_USER, the password from REPLAY_TO_PASS. */
  toAuth: { user: string; pass: string } | null;
  /** A user for `to` whose password is not in the environment: the shell asks for it on a terminal. */
  toUserWithoutPass: string | null;
  from: string;
  /** The sink's basic auth, or null when it has none. */
  auth: { user: string; pass: string } | null;
  filter: ReplayFilter;
  /** null: unsigned. */
  secret: string | null;
  ratePerSecond: number;
  dryRun: boolean;
  timeoutMs: number;
}

const OPTIONS = {
  to: { type: 'string' },
  from: { type: 'string' },
  event: { type: 'string' },
  status: { type: 'string' },
  live: { type: 'boolean' },
  test: { type: 'boolean' },
  since: { type: 'string' },
  before: { type: 'string' },
  limit: { type: 'string' },
  secret: { type: 'string' },
  unsigned: { type: 'boolean' },
  rate: { type: 'string' },
  'dry-run': { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const MAX_KEY = Number.MAX_SAFE_INTEGER;

/** The replay's command line and environment, checked once; every problem is named in one message. */
export function parseReplayArgs(argv: readonly string[], env: Env): Result<ReplayOptions, 'usage' | 'help'> {
  const parsed = parseStrict(argv, OPTIONS, false);
  if (!parsed.ok) return parsed;
  const v = parsed.value.values as OptionValues<typeof OPTIONS>;
  if (v.help) return fail('help', USAGE);

  const problems: string[] = [];
  const url = (name: string, raw: string | undefined, fallback: string | null): URL | null => {
    if (raw === undefined) {
      if (fallback === null) problems.push(`--${name} is required`);
      return fallback === null ? null : new URL(fallback);
    }
    const parsedUrl = parseHttpUrl(raw);
    // The text given is not repeated: it may hold a password.
    if (parsedUrl === null) problems.push(`--${name} must be an http(s) URL`);
    return parsedUrl;
  };
  const whole = (name: string, raw: string | undefined, min: number, max: number): number | undefined => {
    if (raw === undefined) return undefined;
    const n = parseWholeNumber(raw, min, max);
    if (n === null) problems.push(`--${name} must be a whole number from ${min} to ${max}`);
    return n ?? undefined;
  };

  const to = url('to', v.to, null);
  // A password on the command line is in the process list of every process npm starts, for any local user.
  if (to !== null && to.password !== '') {
    problems.push(
      '--to takes no password: put it in REPLAY_TO_PASS (in the environment or .env), or leave it out to be asked',
    );
  }
  const toUser = to !== null && to.username !== '' ? decodeURIComponent(to.username) : readEnv(env, 'REPLAY_TO_USER');
  const toPass = readEnv(env, 'REPLAY_TO_PASS');
  if (toUser === undefined && toPass !== undefined)
    problems.push('REPLAY_TO_PASS needs a user: REPLAY_TO_USER or --to http://USER@…');
  const toAuth = toUser !== undefined && toPass !== undefined ? { user: toUser, pass: toPass } : null;
  const from = url('from', v.from, 'http://127.0.0.1:9888');
  if (from !== null && from.username !== '')
    problems.push('--from takes no credentials: they come from SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS');
  if (v.live && v.test) problems.push('--live and --test contradict each other');
  const filter: ReplayFilter = {};
  if (v.event !== undefined) filter.event = v.event;
  if (v.status !== undefined) filter.status = v.status;
  if (v.live || v.test) filter.liveMode = v.live === true;
  const since = whole('since', v.since, 0, MAX_KEY);
  if (since !== undefined) filter.since = since;
  const before = whole('before', v.before, 1, MAX_KEY);
  if (before !== undefined) filter.before = before;
  const limit = whole('limit', v.limit, 1, MAX_KEY);
  if (limit !== undefined) filter.limit = limit;

  const secret = signingSecret(v, env, problems, v['dry-run'] === true);
  const ratePerSecond = whole('rate', v.rate, 1, 1000) ?? 10;
  const timeoutMs = v.timeout === undefined ? 15_000 : parseTimeoutSeconds(v.timeout);
  if (timeoutMs === null) problems.push('--timeout must be a number of seconds from 0.001 to 600');

  const user = readEnv(env, 'SINK_BASIC_AUTH_USER');
  const pass = readEnv(env, 'SINK_BASIC_AUTH_PASS');
  if ((user === undefined) !== (pass === undefined)) {
    problems.push(
      `${describeName('SINK_BASIC_AUTH_USER')} and ${describeName('SINK_BASIC_AUTH_PASS')} must be set together`,
    );
  }

  if (problems.length > 0) return fail('usage', problems.join('; '));
  return ok({
    to: withoutCredentials(to!),
    toAuth,
    toUserWithoutPass: toUser !== undefined && toPass === undefined ? toUser : null,
    from: withoutCredentials(from!).replace(/\/+$/, ''),
    auth: user !== undefined && pass !== undefined ? { user, pass } : null,
    filter,
    secret,
    ratePerSecond,
    dryRun: v['dry-run'] === true,
    timeoutMs: timeoutMs!,
  });
}

function withoutCredentials(url: URL): string {
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  return copy.toString();
}
