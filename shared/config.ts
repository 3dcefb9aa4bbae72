import { normalizeSinkUrl, reader } from './config-reader.js';
import { describeName, readEnv, type Env } from './env.js';
import { fail, ok, type Result } from './result.js';
import { parseStatusList } from './status.js';

/**
 * Configuration of each part, parsed once from an environment-like object into a typed value.
 * Every problem is reported at once, each naming the variable to fix.
 */

export interface BasicAuth {
  user: string;
  pass: string;
}

export interface ValidateConfig {
  secrets: string[];
  testMode: boolean;
  statuses: ReadonlySet<string>;
  maxAgeSeconds: number;
  maxFutureSeconds: number;
  /** Accept signatures that do not bind the time and the body (see VerifyOptions.acceptWeakSignatures). */
  acceptWeakSignatures: boolean;
}

export interface ForwardConfig {
  /** Without a trailing slash. */
  sinkUrl: string;
  auth: BasicAuth | null;
  maxAttempts: number;
  deadlineMs: number;
  /** While the sink is away: wait each of these, in turn, before the next try. */
  parkDelaysSeconds: number[];
  /** The Worker's outbox gives a delivery up (kept, marked failed) this long after its first try. */
  parkMaxHours: number;
}

export type StoreKind = 'file' | 'memory' | 'postgres';

export interface SinkConfig {
  host: string;
  port: number;
  dataDir: string;
  store: StoreKind;
  /** The postgres store's connection URL (it holds the password: never logged as is); null for the others. */
  databaseUrl?: string | null;
  maxBytes: number;
  maxBodyBytes: number;
  /** Concurrent GET /events streams; each holds a socket and, while it lags, up to 4 MiB of buffer. */
  maxEventStreams: number;
  auth: BasicAuth | null;
  ngrok: { authtoken: string; domain?: string } | null;
  hook: HookConfig | null;
  /** Host names answered besides loopback, SINK_HOST and the tunnel's (lower case, without port). */
  allowedHosts: string[];
  /** Open connections at most; past it the oldest idle one is closed. */
  maxConnections: number;
  /** Failed logins from one address before it must wait between tries. */
  maxFailedLogins: number;
  /**
   * UP42's signature settings when UP42_WEBHOOK_SECRET is set on the sink: it then verifies every delivery again
   * and takes signed ones without basic auth (direct mode). Null: it stores what its credentials let in.
   */
  up42?: ValidateConfig | null;
  /** The Worker to wake (`POST /wake`) once the sink listens and whenever its tunnel opens; null: none. */
  forwarderUrl?: string | null;
}

/** SINK_HOOK_*: `filter` is the dump's query text, checked by the sink against its query syntax. */
export interface HookConfig {
  command: string;
  filter: string;
  timeoutSeconds: number;
  fromKey: number | null;
}

/** Loopback addresses and names: 127.0.0.0/8, localhost, ::1 (bracketed or not). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The tunnel's basic auth refuses shorter passwords; the sink holds anything it exposes to the same bar. */
export const MIN_EXPOSED_PASSWORD = 8;

export interface WorkerLocalConfig {
  port: number;
  dataDir: string;
}

export type ConfigResult<T> = Result<T, 'invalid-config'>;

export { parseByteSize, normalizeSinkUrl } from './config-reader.js';

export function parseValidateConfig(env: Env): ConfigResult<ValidateConfig> {
  const r = reader(env);
  const secret = r.required('UP42_WEBHOOK_SECRET', 'the signature of a webhook cannot be checked without it');
  const previous = readEnv(env, 'UP42_WEBHOOK_SECRET_PREVIOUS');
  const statusList = parseStatusList(r.value('UP42_NOTIFY_STATUSES') ?? '');
  if (!statusList.ok) r.problems.push(`UP42_NOTIFY_STATUSES: ${statusList.message}`);
  return r.done({
    secrets: previous ? [secret, previous] : [secret],
    testMode: r.flag('UP42_TEST_MODE'),
    statuses: statusList.ok ? statusList.value : new Set<string>(),
    maxAgeSeconds: r.integer('UP42_MAX_AGE_SECONDS', 1, 86_400),
    maxFutureSeconds: r.integer('UP42_MAX_FUTURE_SECONDS', 0, 3_600),
    acceptWeakSignatures: r.flag('UP42_ACCEPT_WEAK_SIGNATURES'),
  });
}

export function parseForwardConfig(env: Env): ConfigResult<ForwardConfig> {
  const r = reader(env);
  const raw = r.required('SINK_URL', 'the forwarder does not know where the sink is');
  const sinkUrl = raw ? normalizeSinkUrl(raw) : '';
  if (sinkUrl === null)
    r.problems.push(`${describeName('SINK_URL')} is not an http(s) URL without credentials or query`);
  return r.done({
    sinkUrl: sinkUrl ?? '',
    auth: r.auth(),
    maxAttempts: r.integer('FORWARD_MAX_ATTEMPTS', 1, 10),
    deadlineMs: r.integer('FORWARD_DEADLINE_MS', 100, 300_000),
    parkDelaysSeconds: r.delays('FORWARD_PARK_DELAYS'),
    parkMaxHours: r.integer('FORWARD_PARK_MAX_HOURS', 1, 24 * 365),
  });
}

export function parseSinkConfig(env: Env): ConfigResult<SinkConfig> {
  const r = reader(env);
  const store = r.value('SINK_STORE');
  if (store !== 'file' && store !== 'memory' && store !== 'postgres') {
    r.problems.push('SINK_STORE must be file, memory or postgres');
  }
  const databaseUrl = readEnv(env, 'SINK_DATABASE_URL') ?? null;
  if (store === 'postgres' && databaseUrl === null) {
    r.problems.push(`${describeName('SINK_DATABASE_URL')} is not set: SINK_STORE=postgres needs the database's URL`);
  } else if (store === 'postgres' && !/^postgres(ql)?:\/\//i.test(databaseUrl ?? '')) {
    r.problems.push(`${describeName('SINK_DATABASE_URL')} must be a postgres:// or postgresql:// URL`);
  }
  const authtoken = readEnv(env, 'NGROK_AUTHTOKEN');
  const domain = readEnv(env, 'NGROK_DOMAIN');
  const allowedHosts = (r.value('SINK_ALLOWED_HOSTS') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  for (const h of allowedHosts) {
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(h)) {
      r.problems.push(
        `SINK_ALLOWED_HOSTS: "${h}" is not a host name (give names such as sink.example.com, without port or scheme)`,
      );
    }
  }
  const host = r.value('SINK_HOST')!;
  const auth = r.auth();
  const exposed = !isLoopbackHost(host) || authtoken !== undefined;
  if (auth !== null && exposed && [...auth.pass].length < MIN_EXPOSED_PASSWORD) {
    r.problems.push(
      `${describeName('SINK_BASIC_AUTH_PASS')} must have at least ${MIN_EXPOSED_PASSWORD} characters ` +
        'when the sink is reachable ' +
        `from other machines (SINK_HOST=${host}${authtoken !== undefined ? ', NGROK_AUTHTOKEN set' : ''})`,
    );
  }
  const up42 = readEnv(env, 'UP42_WEBHOOK_SECRET') === undefined ? null : parseValidateConfig(env);
  if (up42 !== null && !up42.ok) r.problems.push(up42.message.replace(/^configuration error: /, ''));
  return r.done({
    host,
    port: r.integer('SINK_PORT', 0, 65_535),
    dataDir: r.value('SINK_DATA_DIR')!,
    store: store === 'memory' || store === 'postgres' ? store : 'file',
    databaseUrl: store === 'postgres' ? databaseUrl : null,
    maxBytes: r.bytes('SINK_MAX_BYTES'),
    maxBodyBytes: r.bytes('SINK_MAX_BODY_BYTES'),
    maxEventStreams: r.integer('SINK_MAX_EVENT_STREAMS', 1, 100_000),
    auth,
    ngrok: authtoken ? { authtoken, domain } : null,
    allowedHosts,
    maxConnections: r.integer('SINK_MAX_CONNECTIONS', 16, 100_000),
    maxFailedLogins: r.integer('SINK_MAX_FAILED_LOGINS', 1, 1_000_000),
    forwarderUrl: forwarderUrl(r),
    hook: parseHook(r, env),
    up42: up42?.ok ? up42.value : null,
  });
}

function forwarderUrl(r: ReturnType<typeof reader>): string | null {
  const raw = r.value('FORWARDER_URL');
  if (raw === undefined) return null;
  const url = normalizeSinkUrl(raw);
  if (url === null) r.problems.push(`FORWARDER_URL is not an http(s) URL without credentials or query`);
  return url;
}

function parseHook(r: ReturnType<typeof reader>, env: Env): HookConfig | null {
  const command = readEnv(env, 'SINK_HOOK_COMMAND');
  const timeoutSeconds = r.integer('SINK_HOOK_TIMEOUT_SECONDS', 1, 86_400);
  const from = readEnv(env, 'SINK_HOOK_FROM_KEY');
  if (from !== undefined && !/^[1-9][0-9]{0,15}$/.test(from))
    r.problems.push('SINK_HOOK_FROM_KEY must be a key: a whole number from 1');
  if (command === undefined) {
    if (readEnv(env, 'SINK_HOOK_FILTER') !== undefined || from !== undefined) {
      r.problems.push('SINK_HOOK_FILTER and SINK_HOOK_FROM_KEY need SINK_HOOK_COMMAND, the command to run');
    }
    return null;
  }
  return {
    command,
    filter: readEnv(env, 'SINK_HOOK_FILTER') ?? '',
    timeoutSeconds,
    fromKey: from === undefined ? null : Number(from),
  };
}

export function parseWorkerLocalConfig(env: Env): ConfigResult<WorkerLocalConfig> {
  const r = reader(env);
  return r.done({ port: r.integer('WORKER_PORT', 0, 65_535), dataDir: r.value('WORKER_DATA_DIR')! });
}

/** The Worker's settings: both halves of the forwarder at once, so one answer names every problem. */
export interface WorkerConfig {
  validate: ValidateConfig;
  forward: ForwardConfig;
  outbox: OutboxConfig;
}

/** The Worker outbox's caps: past either, a new delivery is answered 507 and not kept. */
export interface OutboxConfig {
  maxWaiting: number;
  maxWaitingBytes: number;
}

export function parseOutboxConfig(env: Env): ConfigResult<OutboxConfig> {
  const r = reader(env);
  return r.done({
    maxWaiting: r.integer('WORKER_MAX_WAITING', 1, 10_000_000),
    maxWaitingBytes: r.bytes('WORKER_MAX_WAITING_BYTES'),
  });
}

export function parseWorkerConfig(env: Env): ConfigResult<WorkerConfig> {
  const validate = parseValidateConfig(env);
  const forward = parseForwardConfig(env);
  const outbox = parseOutboxConfig(env);
  if (validate.ok && forward.ok && outbox.ok)
    return ok({ validate: validate.value, forward: forward.value, outbox: outbox.value });
  const problems = [validate, forward, outbox].flatMap((r) =>
    r.ok ? [] : [r.message.replace(/^configuration error: /, '')],
  );
  return fail('invalid-config', `configuration error: ${problems.join('; ')}`);
}
