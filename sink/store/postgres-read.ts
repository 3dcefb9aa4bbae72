import type pg from 'pg';
import Cursor from 'pg-cursor';
import { normalizeStatus } from '../../shared/status.js';
import type { RecordFilter, StoredRecord } from './types.js';

/**
 * Reading webhooks back from PostgreSQL: the dump's filters as one SQL query the indexes serve, streamed
 * through a cursor a few rows at a time, so a dump of any size holds only a batch in memory.
 */

export const RECORD_COLUMNS =
  'key, received_at, message_id, event, status, live_mode, verified, signed_components, body_text';

export interface RecordRow {
  key: string;
  received_at: Date;
  message_id: string | null;
  event: string | null;
  status: string | null;
  live_mode: boolean | null;
  verified: boolean | null;
  signed_components: string[] | null;
  body_text: string;
}

export function rowToRecord(row: RecordRow): StoredRecord {
  return {
    key: Number(row.key),
    receivedAt: row.received_at.toISOString(),
    messageId: row.message_id,
    event: row.event,
    status: row.status,
    liveMode: row.live_mode,
    verified: row.verified,
    signed: row.signed_components,
    body: Buffer.from(row.body_text, 'utf8'),
  };
}

/** The dump's query for `filter`: SQL and its parameters. Pure. */
export function dumpQuery(filter: RecordFilter): { sql: string; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (filter.since !== undefined) where.push(`key > ${param(filter.since)}`);
  if (filter.before !== undefined) where.push(`key < ${param(filter.before)}`);
  if (filter.event !== undefined) where.push(`event = ${param(filter.event)}`);
  if (filter.status !== undefined) where.push(`status_key = ${param(normalizeStatus(filter.status))}`);
  if (filter.liveMode !== undefined) where.push(`live_mode = ${param(filter.liveMode)}`);
  // strpos rather than LIKE: the text is looked for as typed, % and _ included.
  if (filter.q !== undefined && filter.q !== '') where.push(`strpos(lower(body_text), lower(${param(filter.q)})) > 0`);
  let sql = `SELECT ${RECORD_COLUMNS} FROM sink_webhooks`;
  if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ` ORDER BY key ${filter.order === 'desc' ? 'DESC' : 'ASC'}`;
  if (filter.limit !== undefined) sql += ` LIMIT ${param(filter.limit)}`;
  return { sql, values };
}

const BATCH_ROWS = 100;

/**
 * The records matching `filter`, read through a cursor on a connection of its own. Stops as soon as
 * `current()` turns false (the store was cleared under the reader).
 */
export async function* streamRecords(
  pool: pg.Pool,
  filter: RecordFilter,
  current: () => boolean,
): AsyncGenerator<StoredRecord> {
  if (filter.limit !== undefined && filter.limit <= 0) return;
  const { sql, values } = dumpQuery(filter);
  const client = await pool.connect();
  let failed: unknown = undefined;
  const cursor = client.query(new Cursor<RecordRow>(sql, values));
  try {
    for (;;) {
      const rows = await cursor.read(BATCH_ROWS);
      for (const row of rows) {
        if (!current()) return;
        yield rowToRecord(row);
      }
      if (rows.length < BATCH_ROWS) return;
    }
  } catch (err) {
    failed = err;
    throw err;
  } finally {
    if (failed === undefined) await cursor.close().catch((err: unknown) => (failed = err));
    // A connection that failed is not given back for reuse.
    client.release(failed instanceof Error ? failed : failed === undefined ? undefined : true);
  }
}
