import type { SqlStorage, SqlValue } from './runtime-types.js';

/**
 * The outbox's SQLite database: its tables (see outbox-store.ts for what each holds), created on every start
 * if missing, and `run`, through which every statement goes so the rows it reads and writes are added up.
 */

export interface Db {
  sql: SqlStorage;
  rowsRead: number;
  rowsWritten: number;
}

const DELIVERY_COLUMNS = `seq INTEGER PRIMARY KEY, received_at_ms INTEGER NOT NULL, bytes INTEGER NOT NULL,
  message_id TEXT, event TEXT, status TEXT, signed_headers TEXT, content_type TEXT,
  attempts INTEGER NOT NULL DEFAULT 0, refusals INTEGER NOT NULL DEFAULT 0, last_try_at_ms INTEGER,
  next_try_at_ms INTEGER, cause TEXT, failed_at_ms INTEGER, body TEXT NOT NULL`;
export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS line (${DELIVERY_COLUMNS})`,
  `CREATE TABLE IF NOT EXISTS aside (${DELIVERY_COLUMNS})`,
  `CREATE TABLE IF NOT EXISTS failed (${DELIVERY_COLUMNS})`,
  'CREATE INDEX IF NOT EXISTS aside_due ON aside (next_try_at_ms)',
  'CREATE TABLE IF NOT EXISTS recent (seq INTEGER PRIMARY KEY, dedup TEXT NOT NULL UNIQUE, done_at_ms INTEGER)',
  `CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), next_seq INTEGER NOT NULL DEFAULT 0,
    waiting INTEGER NOT NULL DEFAULT 0, waiting_bytes INTEGER NOT NULL DEFAULT 0,
    delivered INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, streak INTEGER NOT NULL DEFAULT 0,
    sink_away INTEGER NOT NULL DEFAULT 0, sink_since_ms INTEGER, sink_cause TEXT, sink_next_try_at_ms INTEGER,
    migrated INTEGER NOT NULL DEFAULT 0)`,
  'INSERT OR IGNORE INTO meta (id) VALUES (1)',
];

export function run<T>(db: Db, query: string, ...bindings: SqlValue[]): T[] {
  const cursor = db.sql.exec<T>(query, ...bindings);
  const rows = cursor.toArray();
  db.rowsRead += cursor.rowsRead;
  db.rowsWritten += cursor.rowsWritten;
  return rows;
}

export function openDb(sql: SqlStorage): Db {
  const db: Db = { sql, rowsRead: 0, rowsWritten: 0 };
  for (const statement of SCHEMA) run(db, statement);
  return db;
}
