import type { Kept, SinkState } from './outbox-plan.js';
import { run, type Db } from './outbox-db.js';

export { openDb, run, type Db } from './outbox-db.js';

/**
 * The outbox's tables in the Durable Object's SQLite database, and the few statements that touch them. Every
 * statement reads or writes a fixed number of rows whatever the backlog: the line's head is the lowest `seq`
 * of `line` (its rowid, so no index to keep), the counters are one row of `meta`, and a replay is found through
 * the unique key of `recent`. Cloudflare bills rows read and written; `Db` adds them up for `GET /check`.
 *
 * - `line`: the deliveries waiting in arrival order; `aside`: those that stepped out of the line (the sink
 *   answered PONG but refused them with 5xx, see outbox-plan.ts), each on its own schedule; `failed`: given up.
 * - `recent`: the dedup key (messageId, or the body's SHA-256) of every delivery kept, until REMEMBER_MS after
 *   it was delivered or failed.
 */

export type Table = 'line' | 'aside' | 'failed';

/** Delivered and failed ids are remembered this long: far past the 5 minutes a signature is accepted. */
export const REMEMBER_MS = 24 * 3600_000;
/** Failed deliveries are kept, body and all, for a week and at most this many: the oldest go first. */
export const FAILED_KEEP = { count: 1_000, ms: 7 * 24 * 3600_000 } as const;

const FIELDS = `seq, received_at_ms, bytes, message_id, event, status, signed_headers, content_type, attempts,
  refusals, last_try_at_ms, next_try_at_ms, cause, failed_at_ms`;

export interface Meta {
  next_seq: number;
  waiting: number;
  waiting_bytes: number;
  delivered: number;
  failed: number;
  streak: number;
  sink_away: number;
  sink_since_ms: number | null;
  sink_cause: string | null;
  sink_next_try_at_ms: number | null;
  migrated: number;
}

export const readMeta = (db: Db): Meta => run<Meta>(db, 'SELECT * FROM meta WHERE id = 1')[0]!;

export function sinkOf(meta: Meta): SinkState {
  return {
    away: meta.sink_away === 1,
    since: meta.sink_since_ms,
    cause: meta.sink_cause,
    nextTryAtMs: meta.sink_next_try_at_ms,
  };
}

/** A delivery as it arrives: what is stored besides the counters. */
export interface Arrival {
  body: string;
  bytes: number;
  dedup: string;
  messageId: string | null;
  event: string | null;
  status: string | null;
  signedHeaders: string | null;
  contentType: string;
}

export type KeepOutcome =
  | { kept: true; seq: number; waiting: number }
  | { kept: false; duplicate: true; seq: number }
  | { kept: false; duplicate: false; full: string };

export interface Caps {
  maxWaiting: number;
  maxWaitingBytes: number;
}

/** Keeps one arrival: 2 rows read, 4 written (the delivery, its dedup key and its index entry, the counters). */
export function keep(db: Db, arrival: Arrival, caps: Caps, now: number): KeepOutcome {
  const [seen] = run<{ seq: number }>(db, 'SELECT seq FROM recent WHERE dedup = ?', arrival.dedup);
  if (seen !== undefined) return { kept: false, duplicate: true, seq: seen.seq };
  const meta = readMeta(db);
  const full = fullness(meta, caps, arrival.bytes);
  if (full !== null) return { kept: false, duplicate: false, full };
  const seq = meta.next_seq + 1;
  run(
    db,
    `INSERT INTO line (seq, received_at_ms, bytes, message_id, event, status, signed_headers, content_type, body)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    seq,
    now,
    arrival.bytes,
    arrival.messageId,
    arrival.event,
    arrival.status,
    arrival.signedHeaders,
    arrival.contentType,
    arrival.body,
  );
  run(db, 'INSERT INTO recent (seq, dedup) VALUES (?, ?)', seq, arrival.dedup);
  run(
    db,
    'UPDATE meta SET next_seq = ?, waiting = waiting + 1, waiting_bytes = waiting_bytes + ? WHERE id = 1',
    seq,
    arrival.bytes,
  );
  return { kept: true, seq, waiting: meta.waiting + 1 };
}

/** Why the outbox takes nothing more (`bytes` more, 0 to ask whether it is full at all), or null. */
export function fullness(meta: Meta, caps: Caps, bytes = 0): string | null {
  if (meta.waiting >= caps.maxWaiting) return `${meta.waiting} deliveries wait, WORKER_MAX_WAITING=${caps.maxWaiting}`;
  if (meta.waiting_bytes + bytes > caps.maxWaitingBytes)
    return `${meta.waiting_bytes} bytes wait, WORKER_MAX_WAITING_BYTES=${caps.maxWaitingBytes}`;
  return null;
}

interface Row {
  seq: number;
  received_at_ms: number;
  bytes: number;
  message_id: string | null;
  event: string | null;
  status: string | null;
  signed_headers: string | null;
  content_type: string | null;
  attempts: number;
  refusals: number;
  last_try_at_ms: number | null;
  next_try_at_ms: number | null;
  cause: string | null;
  failed_at_ms: number | null;
}

function kept(row: Row): Kept {
  return {
    seq: row.seq,
    receivedAtMs: row.received_at_ms,
    bytes: row.bytes,
    messageId: row.message_id,
    event: row.event,
    status: row.status,
    signedHeaders: row.signed_headers,
    contentType: row.content_type ?? 'application/json',
    attempts: row.attempts,
    refusals: row.refusals,
    lastTryAtMs: row.last_try_at_ms,
    nextTryAtMs: row.next_try_at_ms,
    cause: row.cause,
    failedAtMs: row.failed_at_ms,
  };
}

export type WithBody = Kept & { body: string };

/** The head of the line (or the first after `after`), with its body: one row read. */
export function lineHead(db: Db, after = 0): WithBody | null {
  const sql = `SELECT ${FIELDS}, body FROM line WHERE seq > ? ORDER BY seq LIMIT 1`;
  const [row] = run<Row & { body: string }>(db, sql, after);
  return row === undefined ? null : { ...kept(row), body: row.body };
}

/** Deliveries that stepped aside and are due, soonest first. */
export function dueAside(db: Db, now: number, limit: number): WithBody[] {
  const rows = run<Row & { body: string }>(
    db,
    `SELECT ${FIELDS}, body FROM aside WHERE next_try_at_ms <= ? ORDER BY next_try_at_ms LIMIT ?`,
    now,
    limit,
  );
  return rows.map((row) => ({ ...kept(row), body: row.body }));
}

export function nextAsideAt(db: Db): number | null {
  const [row] = run<{ at: number }>(db, 'SELECT next_try_at_ms AS at FROM aside ORDER BY next_try_at_ms LIMIT 1');
  return row?.at ?? null;
}

/** A page of one table in `seq` order, after `after`: what `GET /outbox` shows, never the bodies. */
export function page(db: Db, table: Table, after: number, limit: number): Kept[] {
  const sql = `SELECT ${FIELDS} FROM ${table} WHERE seq > ? ORDER BY seq LIMIT ?`;
  return run<Row>(db, sql, after, limit).map(kept);
}

/** The tries so far of a delivery that stays where it is. */
export function noteTry(db: Db, table: Table, k: Kept): void {
  run(
    db,
    `UPDATE ${table} SET attempts = ?, refusals = ?, last_try_at_ms = ?, next_try_at_ms = ?, cause = ? WHERE seq = ?`,
    k.attempts,
    k.refusals,
    k.lastTryAtMs,
    k.nextTryAtMs,
    k.cause,
    k.seq,
  );
}

/** Moves a delivery from one table to another with its tries noted (1 row deleted, 1 written). */
export function move(db: Db, from: Table, to: Table, k: Kept): void {
  run(db, `INSERT INTO ${to} SELECT * FROM ${from} WHERE seq = ?`, k.seq);
  run(db, `DELETE FROM ${from} WHERE seq = ?`, k.seq);
  noteTry(db, to, k);
  if (to === 'failed') run(db, 'UPDATE failed SET failed_at_ms = ? WHERE seq = ?', k.failedAtMs, k.seq);
}

/** A delivery the sink stored: gone from the outbox, its id remembered for REMEMBER_MS. */
export function delivered(db: Db, from: Table, k: Kept, now: number): void {
  run(db, `DELETE FROM ${from} WHERE seq = ?`, k.seq);
  run(db, 'UPDATE recent SET done_at_ms = ? WHERE seq = ?', now, k.seq);
  forget(db, now);
  run(
    db,
    `UPDATE meta SET waiting = waiting - 1, waiting_bytes = waiting_bytes - ?, delivered = delivered + 1,
     streak = 0, sink_away = 0, sink_since_ms = NULL, sink_cause = NULL, sink_next_try_at_ms = NULL WHERE id = 1`,
    k.bytes,
  );
}

/** A delivery given up: kept in `failed` (see FAILED_KEEP), its id remembered as a delivered one's. */
export function failed(db: Db, from: Table, k: Kept, now: number): void {
  move(db, from, 'failed', { ...k, nextTryAtMs: null, failedAtMs: now });
  run(db, 'UPDATE recent SET done_at_ms = ? WHERE seq = ?', now, k.seq);
  run(
    db,
    'UPDATE meta SET waiting = waiting - 1, waiting_bytes = waiting_bytes - ?, failed = failed + 1 WHERE id = 1',
    k.bytes,
  );
  pruneFailed(db, now);
}

/**
 * Forgets the two oldest remembered ids if their time is up: one per delivery keeps pace, the second catches
 * up after a burst. An id still waiting (the oldest may be) is kept, and with it those behind it.
 */
function forget(db: Db, now: number): void {
  const oldest = run<{ seq: number; done_at_ms: number | null }>(
    db,
    'SELECT seq, done_at_ms FROM recent ORDER BY seq LIMIT 2',
  );
  for (const row of oldest) {
    if (row.done_at_ms === null || row.done_at_ms > now - REMEMBER_MS) return;
    run(db, 'DELETE FROM recent WHERE seq = ?', row.seq);
  }
}

/** Drops the oldest failed deliveries past FAILED_KEEP: a few at a time, at each failure and each drain. */
export function pruneFailed(db: Db, now: number): void {
  const meta = readMeta(db);
  let count = meta.failed;
  const oldest = run<{ seq: number; failed_at_ms: number | null }>(
    db,
    'SELECT seq, failed_at_ms FROM failed ORDER BY seq LIMIT 2',
  );
  for (const row of oldest) {
    if (count <= FAILED_KEEP.count && (row.failed_at_ms ?? now) > now - FAILED_KEEP.ms) break;
    run(db, 'DELETE FROM failed WHERE seq = ?', row.seq);
    count--;
  }
  if (count !== meta.failed) run(db, 'UPDATE meta SET failed = ? WHERE id = 1', count);
}

/** The sink's state as the drain last saw it, and the line's streak of tries that found it away. */
export function noteSink(db: Db, sink: SinkState, streak: number): void {
  run(
    db,
    `UPDATE meta SET sink_away = ?, sink_since_ms = ?, sink_cause = ?, sink_next_try_at_ms = ?, streak = ?
     WHERE id = 1`,
    sink.away ? 1 : 0,
    sink.since,
    sink.cause,
    sink.nextTryAtMs,
    streak,
  );
}
