import { isUtf8 } from 'node:buffer';
import type pg from 'pg';
import { createListeners } from './listeners.js';
import { checkMeta } from './meta-limits.js';
import { createAppendQueue } from './postgres-append.js';
import { createPool, errorText, isUnavailable, redactUrl } from './postgres-connection.js';
import { openLiveConnection, type LiveConnection } from './postgres-live.js';
import { RECORD_COLUMNS, rowToRecord, streamRecords, type RecordRow } from './postgres-read.js';
import { migrate } from './postgres-schema.js';
import { StoreUnavailableError, type RecordFilter, type WebhookStore } from './types.js';

/**
 * The team store: webhooks in a PostgreSQL table that several sinks share. The database does what the file
 * store does by hand: sink_append() locks the one-row counter, takes the next key, inserts and commits, so
 * keys stay consecutive across sinks and a 200 means committed. messageId is looked up under the same lock.
 *
 * count, bytes and lastKey are read synchronously by /stats and the live stream, so the store keeps them as a
 * cache: refreshed from each of its own commits, from every NOTIFY (appends and clears of any sink), and from
 * the counter row on start and after a reconnect. Subscribers hear every append in key order, its own at once
 * and the others' once NOTIFY says so (their bodies read back from the table).
 */
export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database?sslmode=...; what it leaves out comes from PG* variables. */
  url: string;
  maxBytes: number;
  /** Lost and restored connections, for stderr. */
  warn?: (line: string) => void;
  poolSize?: number;
}

export interface PostgresStore extends WebhookStore {
  readonly kind: 'postgres';
  /** The URL without its password. */
  readonly location: string;
}

interface CounterRow {
  epoch: string;
  last_key: string;
  bytes: string;
}

const CATCH_UP_ROWS = 500;
const CATCH_UP =
  `SELECT c.epoch, c.last_key, c.bytes, w.* FROM sink_counter c LEFT JOIN LATERAL ` +
  `(SELECT ${RECORD_COLUMNS} FROM sink_webhooks WHERE key > $1 ORDER BY key LIMIT ${CATCH_UP_ROWS}) w ON true ` +
  'WHERE c.id = 1';

export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const shown = redactUrl(options.url);
  const warn = options.warn ?? (() => undefined);
  const pool = createPool({ url: options.url, max: options.poolSize ?? 10 });
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot connect to PostgreSQL at ${shown}: ${errorText(err)}`, { cause: err });
  }
  try {
    await migrate(client);
    client.release();
  } catch (err) {
    client.release(true);
    await pool.end().catch(() => undefined);
    throw new Error(`cannot prepare the database at ${shown}: ${errorText(err)}`, { cause: err });
  }

  const cache = { epoch: 0, lastKey: 0, bytes: 0 };
  /** Bumped at each clear heard of: a dump in progress stops. */
  let generation = 0;
  /** The last key told to subscribers. */
  let announced = 0;
  let closed = false;
  const listeners = createListeners();

  const cleared = (epoch: number) => {
    cache.epoch = epoch;
    cache.lastKey = 0;
    cache.bytes = 0;
    generation += 1;
    announced = 0;
    listeners.cleared();
  };

  /** Takes in a state of the counter row, as of some commit: newer clears and appends win. */
  const seen = (epoch: number, lastKey: number, bytes: number) => {
    if (epoch > cache.epoch) cleared(epoch);
    if (epoch === cache.epoch && lastKey > cache.lastKey) {
      cache.lastKey = lastKey;
      cache.bytes = bytes;
    }
  };

  // Reads the appends subscribers have not heard of yet, in key order; one run at a time.
  let catching = false;
  let again = false;
  const catchUp = () => {
    if (catching) {
      again = true;
      return;
    }
    catching = true;
    void (async () => {
      do {
        again = false;
        if (!listeners.active) {
          announced = Math.max(announced, cache.lastKey);
          continue;
        }
        const { rows } = await pool.query<CounterRow & Partial<RecordRow>>(CATCH_UP, [announced]);
        const head = rows[0];
        if (head === undefined) break;
        const epoch = Number(head.epoch);
        seen(epoch, Number(head.last_key), Number(head.bytes));
        if (epoch !== cache.epoch) continue;
        for (const row of rows) {
          if (row.key === undefined || row.key === null) break;
          if (Number(row.key) !== announced + 1) continue;
          announced += 1;
          listeners.appended(rowToRecord(row as RecordRow));
        }
        if (rows.length === CATCH_UP_ROWS) again = true;
      } while (again && !closed);
    })()
      .catch(() => undefined) // the database is away: restored() catches up again
      .finally(() => {
        catching = false;
        if (again && !closed) catchUp();
      });
  };

  const refresh = async () => {
    const { rows } = await pool.query<CounterRow>('SELECT epoch, last_key, bytes FROM sink_counter WHERE id = 1');
    const row = rows[0]!;
    seen(Number(row.epoch), Number(row.last_key), Number(row.bytes));
  };

  const notification = (payload: string) => {
    const [kind, e, k, b] = payload.split(':');
    const epoch = Number(e);
    if (kind === 'c') seen(epoch, 0, 0);
    if (kind !== 'a') return;
    const key = Number(k);
    seen(epoch, key, Number(b));
    if (epoch === cache.epoch && key > announced) catchUp();
  };

  let opened: LiveConnection | null = null;
  try {
    opened = await openLiveConnection(options.url, {
      notification,
      lost: (message) => warn(`${message}; requests get 503 until it is back`),
      restored: () => {
        warn('the database connection is restored');
        refresh().then(catchUp, () => undefined);
      },
    });
    // After LISTEN: no commit can fall between what this reads and the first notification.
    await refresh();
    announced = cache.lastKey;
  } catch (err) {
    await opened?.close();
    await pool.end().catch(() => undefined);
    throw new Error(`cannot listen on PostgreSQL at ${shown}: ${errorText(err)}`, { cause: err });
  }
  const live = opened;

  const appends = createAppendQueue(pool, options.maxBytes, (row, body, meta) => {
    const key = Number(row.key);
    const epoch = Number(row.epoch);
    seen(epoch, Number(row.last_key), Number(row.bytes));
    if (row.outcome !== 'stored' || epoch !== cache.epoch || key <= announced) return;
    if (key === announced + 1) {
      announced = key;
      if (listeners.active) listeners.appended({ ...meta, key, receivedAt: row.received_at.toISOString(), body });
    } else {
      catchUp(); // another sink's append before this one is not heard of yet: tell them in order
    }
  });

  const store: PostgresStore = {
    kind: 'postgres',
    location: shown,
    get count() {
      return cache.lastKey;
    },
    get bytes() {
      return cache.bytes;
    },
    maxBytes: options.maxBytes,
    get lastKey() {
      return cache.lastKey;
    },
    get unavailable() {
      return live.down;
    },
    append(body, meta) {
      if (closed) return Promise.resolve({ status: 'error', message: 'the store is closed' });
      // A text column holds UTF-8 without NUL; the HTTP layer lets only JSON through, which never has either.
      // Refused here all the same, so that one such body cannot fail the batch it would share.
      if (!isUtf8(body) || body.includes(0)) {
        return Promise.resolve({ status: 'error', message: 'the body is not UTF-8 text without NUL' });
      }
      const valid = checkMeta(meta);
      if (!valid.ok) return Promise.resolve({ status: 'invalid', message: valid.message });
      return appends.append(body, meta);
    },
    records(filter: RecordFilter = {}) {
      const gen = generation;
      return streamRecords(pool, filter, () => gen === generation);
    },
    async clear() {
      let epoch: number;
      try {
        epoch = Number((await pool.query<{ epoch: string }>('SELECT epoch FROM sink_clear()')).rows[0]!.epoch);
      } catch (err) {
        if (isUnavailable(err)) throw new StoreUnavailableError(`the database is unavailable (${errorText(err)})`);
        throw err;
      }
      seen(epoch, 0, 0);
    },
    async close() {
      if (closed) return;
      closed = true;
      await appends.drain();
      await live.close();
      await pool.end();
    },
    subscribe(listener, onClear) {
      if (!listeners.active) announced = Math.max(announced, cache.lastKey);
      return listeners.subscribe(listener, onClear);
    },
  };
  return store;
}
