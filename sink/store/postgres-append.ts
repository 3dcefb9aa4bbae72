import type pg from 'pg';
import { normalizeStatus } from '../../shared/status.js';
import { errorText, isUnavailable } from './postgres-connection.js';
import type { AppendResult, RecordMeta } from './types.js';

/**
 * Appends to PostgreSQL with group commit, as the file store does on disk: the appends waiting when the
 * previous batch commits go together into one sink_append() call, one transaction, keys in arrival order.
 * One batch at a time per sink; sinks take turns on the counter row. A result is given only once the call
 * returned, that is after COMMIT: a 200 is never sent for a webhook that is not committed.
 */

/** One row of sink_append(): the counter as this webhook left it. */
export interface AppendRow {
  /** 1-based position in the batch. */
  i: number;
  outcome: 'stored' | 'duplicate' | 'full';
  key: string;
  epoch: string;
  last_key: string;
  bytes: string;
  received_at: Date;
}

interface Pending {
  body: Buffer;
  meta: RecordMeta;
  resolve: (result: AppendResult) => void;
}

const APPEND =
  'SELECT * FROM sink_append($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], ' +
  '$7::boolean[], $8::text[], $9)';
const MAX_BATCH = 500;
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

export interface AppendQueue {
  append(body: Buffer, meta: RecordMeta): Promise<AppendResult>;
  /** Resolves once nothing is queued or being written. */
  drain(): Promise<void>;
}

/**
 * `committed` runs for each row of a committed batch, in key order, before that append's promise resolves:
 * the store updates its counters and tells its subscribers there.
 */
export function createAppendQueue(
  pool: pg.Pool,
  maxBytes: number,
  committed: (row: AppendRow, body: Buffer, meta: RecordMeta) => void,
): AppendQueue {
  const queue: Pending[] = [];
  let writing = false;
  let written: Promise<void> = Promise.resolve();

  const takeBatch = () => {
    let bytes = 0;
    let n = 0;
    while (n < queue.length && n < MAX_BATCH && (n === 0 || bytes + queue[n]!.body.length <= MAX_BATCH_BYTES)) {
      bytes += queue[n]!.body.length;
      n += 1;
    }
    return queue.splice(0, n);
  };

  async function commitBatch(batch: Pending[]): Promise<void> {
    let rows: AppendRow[];
    try {
      const column = <T>(pick: (p: Pending) => T) => batch.map(pick);
      const values = [
        column((p) => p.body.toString('utf8')),
        column((p) => p.meta.messageId),
        column((p) => p.meta.event),
        column((p) => p.meta.status),
        column((p) => (p.meta.status === null ? null : normalizeStatus(p.meta.status))),
        column((p) => p.meta.liveMode),
        column((p) => p.meta.verified ?? null),
        column((p) => (p.meta.signed == null ? null : p.meta.signed.join(' '))),
        maxBytes,
      ];
      rows = (await pool.query<AppendRow>(APPEND, values)).rows;
    } catch (err) {
      // Not answered, so not acknowledged: if the COMMIT did happen, a retry finds the messageId stored.
      if (isUnavailable(err)) {
        const message = `the database is unavailable (${errorText(err)})`;
        for (const p of batch) p.resolve({ status: 'unavailable', message });
        return;
      }
      // The transaction was rolled back whole: one webhook the database refused (a value meta-limits.ts did
      // not foresee) must not fail the others, so each is tried again on its own and only the guilty one fails.
      if (batch.length > 1) {
        for (const p of batch) await commitBatch([p]);
        return;
      }
      batch[0]!.resolve({ status: 'error', message: errorText(err) });
      return;
    }
    for (const row of rows) {
      const item = batch[row.i - 1]!;
      committed(row, item.body, item.meta);
      const key = Number(row.key);
      item.resolve(row.outcome === 'full' ? { status: 'full' } : { status: row.outcome, key });
    }
  }

  const write = () => {
    if (writing || queue.length === 0) return;
    writing = true;
    // setImmediate: every request whose body completed in this turn of the event loop joins the batch.
    written = new Promise((resolve) => setImmediate(resolve))
      .then(() => commitBatch(takeBatch()))
      .finally(() => {
        writing = false;
        write();
      });
  };

  return {
    append(body, meta) {
      return new Promise((resolve) => {
        queue.push({ body, meta, resolve });
        write();
      });
    },
    async drain() {
      while (writing) await written;
    },
  };
}
