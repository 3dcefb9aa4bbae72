/**
 * Every environment variable of every part, in one table: the parsers read through it (env.ts), and
 * `.env.example`, `pipedream.yaml`, each step's variables and the docs' tables are checked against it.
 */
export type Part = 'forwarder' | 'sink' | 'worker' | 'scripts';
/** The forwarder's steps on Pipedream (pipedream.yaml), each reading its own variables. */
export type Step = 'validate' | 'forward';

export interface EnvVar {
  name: string;
  /** The name the original article used, still accepted so its readers' settings keep working. */
  alias?: string;
  parts: readonly Part[];
  description: string;
  default?: string;
  secret?: boolean;
  /** The Pipedream step that reads it (a `forwarder` variable only). */
  step?: Step;
}

export const ENV_VARS = [
  {
    name: 'UP42_WEBHOOK_SECRET',
    step: 'validate',
    alias: 'up42_webhook_secret_zwei',
    parts: ['forwarder', 'sink', 'scripts'],
    secret: true,
    description:
      "The webhook's secret, as set on UP42; the HMAC key of its signatures. Set on the sink too, the sink verifies " +
      'each delivery again and accepts signed ones without basic auth (direct mode).',
  },
  {
    name: 'UP42_WEBHOOK_SECRET_PREVIOUS',
    step: 'validate',
    parts: ['forwarder', 'sink'],
    secret: true,
    description: 'The previous secret, also accepted while a new one is rolled out. Optional.',
  },
  {
    name: 'UP42_TEST_MODE',
    step: 'validate',
    alias: 'is_test',
    parts: ['forwarder', 'sink'],
    default: 'no',
    description: 'yes: forward test events and every status, and skip the time window (never the signature).',
  },
  {
    name: 'UP42_NOTIFY_STATUSES',
    step: 'validate',
    parts: ['forwarder', 'sink'],
    default: 'ERROR,FAILED,CANCELLED,SUCCEEDED,FAILED_PERMANENTLY,FULFILLED',
    description: 'Comma-separated statuses to forward; case, spaces and underscores do not matter.',
  },
  {
    name: 'UP42_MAX_AGE_SECONDS',
    step: 'validate',
    parts: ['forwarder', 'sink'],
    default: '300',
    description: 'Oldest accepted signature, in seconds before now.',
  },
  {
    name: 'UP42_MAX_FUTURE_SECONDS',
    step: 'validate',
    parts: ['forwarder', 'sink'],
    default: '30',
    description: 'Newest accepted signature, in seconds after now (clock skew).',
  },
  {
    name: 'UP42_ACCEPT_WEAK_SIGNATURES',
    step: 'validate',
    parts: ['forwarder', 'sink'],
    default: 'no',
    description: 'yes: accept signatures that cover no body digest (forgeable; every summary warns).',
  },
  {
    name: 'SINK_URL',
    step: 'forward',
    alias: 'local_dev_host',
    parts: ['forwarder'],
    description: "The sink's public URL, as the tunnel prints it (https://....ngrok-free.app).",
  },
  {
    name: 'SINK_BASIC_AUTH_USER',
    step: 'forward',
    alias: 'ngrok_basic_auth_user',
    parts: ['forwarder', 'sink'],
    description: "User name of the sink's basic auth (and of the tunnel).",
  },
  {
    name: 'SINK_BASIC_AUTH_PASS',
    step: 'forward',
    alias: 'ngrok_basic_auth_pass',
    parts: ['forwarder', 'sink'],
    secret: true,
    description: "Password of the sink's basic auth; the tunnel needs 8 to 128 characters.",
  },
  {
    name: 'FORWARD_MAX_ATTEMPTS',
    step: 'forward',
    parts: ['forwarder'],
    default: '4',
    description: 'Attempts at delivering to the sink on network errors, 429 and 5xx.',
  },
  {
    name: 'FORWARD_DEADLINE_MS',
    step: 'forward',
    parts: ['forwarder'],
    default: '15000',
    description:
      "Time budget of one run's tries at the sink: Pipedream's 30 s per run also covers validate and a cold start.",
  },
  {
    name: 'FORWARD_PARK_DELAYS',
    step: 'forward',
    parts: ['forwarder'],
    default: '60,300,900,1800,3600,3600,7200,7200,10800,10800',
    description:
      'While the sink is away, the delivery is kept and tried again ' +
      'after each of these delays (seconds, comma-separated).',
  },
  {
    name: 'FORWARD_PARK_MAX_HOURS',
    parts: ['worker'],
    default: '72',
    description: "How long the Worker's outbox keeps trying a delivery before marking it failed (kept for inspection).",
  },
  {
    name: 'WORKER_MAX_WAITING',
    parts: ['worker'],
    default: '20000',
    description:
      "Most deliveries the Worker's outbox keeps waiting; past it UP42 is answered 507 " +
      '(20,000: what the free plan writes in about two days).',
  },
  {
    name: 'WORKER_MAX_WAITING_BYTES',
    parts: ['worker'],
    default: '1G',
    description:
      "Most bytes of bodies the Worker's outbox keeps waiting (suffixes K, M, G allowed); past it UP42 is answered " +
      "507 (1 GiB: a fifth of the free plan's 5 GB of storage).",
  },
  {
    name: 'FORWARDER_URL',
    parts: ['sink'],
    description:
      "The Worker's URL. Optional; when set the sink calls its POST /wake with the sink's credentials " +
      'once it listens and whenever its tunnel opens, so what the outbox holds arrives at once.',
  },
  {
    name: 'SINK_HOST',
    parts: ['sink'],
    default: '127.0.0.1',
    description: 'Address the sink listens on; 0.0.0.0 exposes it to the network.',
  },
  { name: 'SINK_PORT', parts: ['sink'], default: '9888', description: 'Port the sink listens on.' },
  { name: 'SINK_DATA_DIR', parts: ['sink'], default: './data', description: 'Folder of the webhook store.' },
  {
    name: 'SINK_STORE',
    parts: ['sink'],
    default: 'file',
    description: 'file (durable, default), memory (throwaway) or postgres (shared by several sinks).',
  },
  {
    name: 'SINK_DATABASE_URL',
    parts: ['sink'],
    secret: true,
    description:
      'With SINK_STORE=postgres: postgres://user:password@host:5432/database (sslmode and PG* variables honoured).',
  },
  {
    name: 'SINK_MAX_BYTES',
    parts: ['sink'],
    default: '268435456',
    description: 'Store capacity in bytes (suffixes K, M, G allowed); past it new webhooks get 507.',
  },
  {
    name: 'SINK_MAX_BODY_BYTES',
    parts: ['sink'],
    default: '1048576',
    description: 'Largest accepted webhook body in bytes (suffixes K, M, G allowed).',
  },
  {
    name: 'SINK_HOOK_COMMAND',
    parts: ['sink'],
    description:
      'A command run for each stored webhook matching SINK_HOOK_FILTER: the ' +
      'body on its standard input, WEBHOOK_* variables in its environment.',
  },
  {
    name: 'SINK_HOOK_FILTER',
    parts: ['sink'],
    description:
      "Which webhooks run the hook, in the dump's query syntax (event=order.status&status=FULFILLED&liveMode=true); " +
      'empty: all.',
  },
  {
    name: 'SINK_HOOK_TIMEOUT_SECONDS',
    parts: ['sink'],
    default: '300',
    description: 'A hook run longer than this is stopped and tried again later.',
  },
  {
    name: 'SINK_HOOK_FROM_KEY',
    parts: ['sink'],
    description: 'The first key a newly configured hook runs for; by default only webhooks stored from then on.',
  },
  {
    name: 'SINK_MAX_EVENT_STREAMS',
    parts: ['sink'],
    default: '256',
    description: 'Most /events streams (inbox pages, curl -N) open at once; past it new ones get 503.',
  },
  {
    name: 'SINK_ALLOWED_HOSTS',
    parts: ['sink'],
    description:
      'Comma-separated host names the sink answers to besides loopback, ' +
      'SINK_HOST and the tunnel (other Host headers get 421).',
  },
  {
    name: 'SINK_MAX_CONNECTIONS',
    parts: ['sink'],
    default: '256',
    description: 'Open connections at most; past it the oldest idle one is closed.',
  },
  {
    name: 'SINK_MAX_FAILED_LOGINS',
    parts: ['sink'],
    default: '10',
    description:
      'Failed logins a client (all of loopback is one) has free; past them its logins are checked at most one ' +
      'per 0.5 to 1.5 s, later ones waiting their turn, and its failures get 429.',
  },
  {
    name: 'NGROK_AUTHTOKEN',
    parts: ['sink'],
    secret: true,
    description: 'When set, npm start also opens an ngrok tunnel to the sink (basic auth required).',
  },
  { name: 'NGROK_DOMAIN', parts: ['sink'], description: 'A reserved ngrok domain for the tunnel. Optional.' },
  {
    name: 'WORKER_PORT',
    parts: ['worker'],
    default: '8787',
    description: 'Port of the Cloudflare Worker run locally in workerd (npm run worker).',
  },
  {
    name: 'WORKER_DATA_DIR',
    parts: ['worker'],
    default: './data/worker',
    description: "Folder of the local Worker's outbox (its Durable Object storage).",
  },
  {
    name: 'REPLAY_TO_USER',
    parts: ['scripts'],
    description: 'Basic-auth user for the target of npm run replay (--to); or the user part of --to.',
  },
  {
    name: 'REPLAY_TO_PASS',
    parts: ['scripts'],
    secret: true,
    description:
      'Basic-auth password for the target of npm run replay; never on the command line (asked on a terminal).',
  },
  { name: 'UP42_USERNAME', parts: ['scripts'], description: 'UP42 account user name, for npm run up42.' },
  { name: 'UP42_PASSWORD', parts: ['scripts'], secret: true, description: 'UP42 account password, for npm run up42.' },
  {
    name: 'UP42_WORKSPACE_ID',
    parts: ['scripts'],
    description: "Workspace id; defaults to the access token's subject.",
  },
  {
    name: 'UP42_AUTH_URL',
    parts: ['scripts'],
    default: 'https://auth.up42.com',
    description: 'UP42 token endpoint base URL.',
  },
  { name: 'UP42_API_URL', parts: ['scripts'], default: 'https://api.up42.com', description: 'UP42 API base URL.' },
] as const satisfies readonly EnvVar[];

export type EnvName = (typeof ENV_VARS)[number]['name'];
