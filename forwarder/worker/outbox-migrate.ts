import { dedupKey, type Kept } from './outbox-plan.js';
import { run, type Db } from './outbox-store.js';
import type { DurableObjectStorage } from './runtime-types.js';

/**
 * Moves what an outbox of the first layout kept under key-value keys (`waiting:<seq>` and `failed:<seq>`
 * records, `body:<seq>`, `meta:*` counters) into the SQL tables, once, on the object's first start with this
 * code. Each delivery moves in one transaction with the deletion of its keys, so a start cut short goes on
 * where it stopped and nothing is lost or doubled.
 */

/** A delivery as the first layout kept it: today's record without the fields that came later. */
type OldKept = Omit<Kept, 'signedHeaders' | 'contentType' | 'refusals'>;

const pad = (seq: number) => String(seq).padStart(12, '0');
const CHUNK = 100;

export async function migrateKeyValue(storage: DurableObjectStorage, db: Db): Promise<number> {
  let moved = 0;
  for (const [prefix, table] of [
    ['waiting:', 'line'],
    ['failed:', 'failed'],
  ] as const) {
    for (;;) {
      const records = await storage.list<OldKept>({ prefix, limit: CHUNK });
      if (records.size === 0) break;
      for (const old of records.values()) {
        const body = (await storage.get<string>(`body:${pad(old.seq)}`)) ?? '';
        // No await between the rows and the deletions: the runtime commits them together.
        storage.transactionSync(() => insertOld(db, table, old, body));
        const gone = [storage.delete(`${prefix}${pad(old.seq)}`), storage.delete(`body:${pad(old.seq)}`)];
        await Promise.all(gone);
        moved++;
      }
    }
  }
  const [nextSeq, delivered, streak] = await Promise.all(
    ['meta:next-seq', 'meta:delivered', 'meta:streak'].map((key) => storage.get<number>(key)),
  );
  run(
    db,
    `UPDATE meta SET next_seq = max(next_seq, ?), delivered = delivered + ?, streak = max(streak, ?), migrated = 1
     WHERE id = 1`,
    nextSeq ?? 0,
    delivered ?? 0,
    streak ?? 0,
  );
  await Promise.all(['meta:next-seq', 'meta:delivered', 'meta:streak', 'meta:sink'].map((k) => storage.delete(k)));
  return moved;
}

function insertOld(db: Db, table: 'line' | 'failed', old: OldKept, body: string): void {
  // Already moved by a start that stopped before its keys were deleted.
  if (run(db, `SELECT seq FROM ${table} WHERE seq = ?`, old.seq).length > 0) return;
  run(
    db,
    `INSERT INTO ${table} (seq, received_at_ms, bytes, message_id, event, status, signed_headers,
      content_type, attempts, last_try_at_ms, next_try_at_ms, cause, failed_at_ms, body)
     VALUES (?, ?, ?, ?, ?, ?, NULL, 'application/json', ?, ?, ?, ?, ?, ?)`,
    old.seq,
    old.receivedAtMs,
    old.bytes,
    old.messageId,
    old.event,
    old.status,
    old.attempts,
    old.lastTryAtMs,
    old.nextTryAtMs,
    old.cause,
    old.failedAtMs,
    body,
  );
  const done = table === 'failed' ? (old.failedAtMs ?? Date.now()) : null;
  run(
    db,
    'INSERT OR IGNORE INTO recent (seq, dedup, done_at_ms) VALUES (?, ?, ?)',
    old.seq,
    dedupKey(old.messageId, body),
    done,
  );
  if (table === 'line')
    run(db, 'UPDATE meta SET waiting = waiting + 1, waiting_bytes = waiting_bytes + ? WHERE id = 1', old.bytes);
  else run(db, 'UPDATE meta SET failed = failed + 1 WHERE id = 1');
  run(db, 'UPDATE meta SET next_seq = max(next_seq, ?) WHERE id = 1', old.seq);
}
