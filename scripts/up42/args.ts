import { fail, ok, type Result } from '../../shared/result.js';
import { parseHttpUrl, type OptionValues, parseStrict, parseTimeoutSeconds } from '../cli/args.js';

export const USAGE = `usage: npm run up42 -- webhooks <command> [options]
       npm run up42 -- connect --url URL [--direct] [--wait SECONDS]
       npm run up42 -- doctor --url URL [--direct] [--wait SECONDS]

Manages the webhooks of your UP42 workspace (UP42_USERNAME, UP42_PASSWORD; see .env.example).

connect makes the chain from UP42 to your sink work and proves it: a secret in .env when there is none, the UP42
webhook (job.status, order.status) for URL (the forwarder's public URL, or with --direct the sink's), UP42's test
event, then one line per hop: what the forwarder verified of it (GET /check) and the sink's PONG. doctor runs the
same checks and changes nothing. Both exit 1 when a hop fails, with the fix.

commands:
  events                          the events a webhook can subscribe to
  list                            the workspace's webhooks
  get ID                          one webhook
  create --name NAME --url URL --events job.status,order.status [--secret SECRET] [--active]
  update ID [--name NAME] [--url URL] [--events LIST] [--secret SECRET] [--active|--inactive]
                                  changes only the given fields (UP42 replaces the whole webhook)
  delete ID                       removes a webhook
  test ID                         makes UP42 send test events; prints testsRun and testsSucceeded

options:
  --json                          print UP42's data as JSON instead of a table
  --show-secret                   show webhook secrets (masked as ******** otherwise, in --json too)
  --timeout SECONDS               per HTTP call (default 15)
  -h, --help                      this text`;

export interface WebhookChanges {
  name?: string;
  url?: string;
  events?: string[];
  secret?: string;
  active?: boolean;
}

export type Command =
  | { kind: 'events' }
  | { kind: 'list' }
  | { kind: 'get'; id: string }
  | { kind: 'create'; name: string; url: string; events: string[]; secret?: string; active: boolean }
  | { kind: 'update'; id: string; changes: WebhookChanges }
  | { kind: 'delete'; id: string }
  | { kind: 'test'; id: string };

export interface Invocation {
  command: Command;
  json: boolean;
  showSecret: boolean;
  timeoutMs: number;
}

const OPTIONS = {
  json: { type: 'boolean' },
  'show-secret': { type: 'boolean' },
  timeout: { type: 'string' },
  name: { type: 'string' },
  url: { type: 'string' },
  events: { type: 'string' },
  secret: { type: 'string' },
  active: { type: 'boolean' },
  inactive: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = OptionValues<typeof OPTIONS>;

const COMMON = ['json', 'show-secret', 'timeout', 'help'];
/** The options each command accepts beyond the common ones; anything else is a usage error, not ignored. */
const ALLOWED: Record<Command['kind'], readonly string[]> = {
  events: [],
  list: [],
  get: [],
  create: ['name', 'url', 'events', 'secret', 'active'],
  update: ['name', 'url', 'events', 'secret', 'active', 'inactive'],
  delete: [],
  test: [],
};
const TAKES_ID = new Set(['get', 'update', 'delete', 'test']);

/** `job.status, order.status` → ['job.status', 'order.status']; null when empty or malformed. */
export function parseEventList(raw: string): string[] | null {
  const events = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (events.length === 0 || !events.every((e) => /^[A-Za-z0-9_.-]+$/.test(e))) return null;
  return [...new Set(events)];
}

/** `webhooks <command> [ID] [options]`, checked whole: every problem is named in one message. */
export function parseUp42Args(argv: readonly string[]): Result<Invocation, 'usage' | 'help'> {
  const parsed = parseStrict(argv, OPTIONS, true);
  if (!parsed.ok) return parsed;
  const v = parsed.value.values as Values;
  const [group, kind, ...rest] = parsed.value.positionals;
  if (v.help || group === 'help' || (group === 'webhooks' && kind === 'help')) return fail('help', USAGE);
  if (group === undefined) return fail('usage', 'no command given');
  if (group !== 'webhooks') {
    return fail('usage', `unknown command "${group}": the commands are connect, doctor and those under "webhooks"`);
  }
  if (kind === undefined) return fail('usage', 'no webhooks command given');
  if (!(kind in ALLOWED)) return fail('usage', `unknown webhooks command "${kind}"`);
  const k = kind as Command['kind'];

  const problems: string[] = [];
  const given = Object.keys(v).filter((name) => v[name as keyof Values] !== undefined);
  const extra = given.filter((name) => !COMMON.includes(name) && !ALLOWED[k].includes(name));
  if (extra.length > 0) problems.push(`${k} does not take ${extra.map((n) => `--${n}`).join(', ')}`);

  let id = '';
  if (TAKES_ID.has(k)) {
    if (rest.length === 0) problems.push(`${k} needs the webhook ID`);
    else if (rest.length > 1) problems.push(`${k} takes one webhook ID, not ${rest.length}`);
    else if (!/^[A-Za-z0-9_-]+$/.test(rest[0]!)) problems.push(`"${rest[0]}" is not a webhook ID`);
    else id = rest[0]!;
  } else if (rest.length > 0) {
    problems.push(`${k} takes no argument, got "${rest.join(' ')}"`);
  }

  const timeoutMs = v.timeout === undefined ? 15_000 : parseTimeoutSeconds(v.timeout);
  if (timeoutMs === null) problems.push('--timeout must be a number of seconds from 0.001 to 600');

  const changes: WebhookChanges = {};
  if (v.name !== undefined) {
    if (v.name.trim() === '') problems.push('--name must not be empty');
    else changes.name = v.name.trim();
  }
  if (v.url !== undefined) {
    const url = parseHttpUrl(v.url);
    if (url === null) problems.push(`--url must be an http(s) URL, not "${v.url}"`);
    else changes.url = v.url.trim();
  }
  if (v.events !== undefined) {
    const events = parseEventList(v.events);
    if (events === null) problems.push('--events must be a comma-separated list such as job.status,order.status');
    else changes.events = events;
  }
  if (v.secret !== undefined) {
    if (v.secret === '') problems.push('--secret must not be empty');
    else changes.secret = v.secret;
  }
  if (v.active && v.inactive) problems.push('--active and --inactive contradict each other');
  else if (v.active) changes.active = true;
  else if (v.inactive) changes.active = false;

  if (k === 'create') {
    for (const required of ['name', 'url', 'events'] as const) {
      if (v[required] === undefined) problems.push(`create needs --${required}`);
    }
  }
  if (k === 'update' && Object.keys(changes).length === 0 && problems.length === 0) {
    problems.push('update needs at least one of --name, --url, --events, --secret, --active, --inactive');
  }
  if (problems.length > 0) return fail('usage', problems.join('; '));

  const command: Command =
    k === 'create'
      ? {
          kind: 'create',
          name: changes.name!,
          url: changes.url!,
          events: changes.events!,
          secret: changes.secret,
          active: changes.active ?? false,
        }
      : k === 'update'
        ? { kind: 'update', id, changes }
        : k === 'events' || k === 'list'
          ? { kind: k }
          : { kind: k, id };
  return ok({ command, json: v.json === true, showSecret: v['show-secret'] === true, timeoutMs: timeoutMs! });
}
