import pg from 'pg';

/**
 * Connecting to PostgreSQL: the pool, how a URL is shown in messages (never with its password), and which
 * errors mean "the database is out of reach" (answered 503, retried by the sender) rather than a fault of the
 * request. Host, user, password, database and sslmode come from the URL; what it leaves out, node-postgres
 * takes from the standard PG* variables (PGHOST, PGPASSWORD, PGSSLMODE, ...), as psql does.
 */

/** The URL with its password replaced by ***, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    for (const name of ['password', 'sslpassword']) {
      if (parsed.searchParams.has(name)) parsed.searchParams.set(name, '***');
    }
    return parsed.toString().replace(/%2A%2A%2A/g, '***');
  } catch {
    // Not parseable as a URL: say nothing that might be a password.
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** SQLSTATE classes and codes that say the server is gone or not taking connections. */
const UNAVAILABLE_STATE = /^(08|57P0[1-3]|53300)/;
const UNAVAILABLE_MESSAGE = new RegExp(
  [
    'Connection terminated',
    'connection timeout',
    'timeout exceeded when trying to connect',
    'Client was closed',
    'not queryable',
    'ECONNREFUSED',
    'ECONNRESET',
    'EPIPE',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'ENOTFOUND',
    'EAI_AGAIN',
  ].join('|'),
  'i',
);

export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (UNAVAILABLE_STATE.test(code) || /^E[A-Z]+$/.test(code)) return true;
  return UNAVAILABLE_MESSAGE.test(typeof e?.message === 'string' ? e.message : String(err));
}

export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** How the sinks' connections appear in pg_stat_activity. */
const APPLICATION_NAME = 'up42-webhook-sink';

export interface PoolOptions {
  url: string;
  /** Connections for appends and dumps. */
  max?: number;
  connectTimeoutMs?: number;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    // A database that vanishes without closing the connection (a host down, a network cut) is noticed too.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: APPLICATION_NAME,
  });
  // An idle connection the server drops (restart, failover) is reported here; the pool has already discarded
  // it and opens a new one for the next query. Without a listener the process would crash.
  pool.on('error', () => undefined);
  return pool;
}

/** A single client (the LISTEN connection, the migration), connected, with its errors handled by `onError`. */
export async function connectClient(
  url: string,
  onError: (err: Error) => void,
  connectTimeoutMs = 5_000,
): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: APPLICATION_NAME,
  });
  client.on('error', onError);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}
