import { normalizeStatus } from '../../shared/status.js';
import type { RecordFilter, RecordMeta, StoredRecord } from './types.js';

/**
 * The in-memory index of a store: per record its receive time, where its body is, and the fields the
 * filters use, in parallel typed arrays so 100,000 records cost a few MB. Position i holds key i + 1 (keys
 * are consecutive from 1). Event and status strings are interned: a store holds few distinct values.
 */
export interface RecordIndex {
  count: number;
  receivedAt: Float64Array;
  /** Absolute file offset of the stored body (memory store: unused). */
  offset: Float64Array;
  length: Uint32Array;
  /** bit 0: body stored as text; bits 1-2: liveMode (0 null, 1 false, 2 true); bits 3-4: verified (the same). */
  flags: Uint8Array;
  event: Uint32Array;
  status: Uint32Array;
  /** The signed headers, space-separated, interned (0: none recorded). */
  signed: Uint32Array;
  messageId: (string | null)[];
  byMessageId: Map<string, number>;
  /** Interned strings; id 0 is null. */
  strings: (string | null)[];
  normalized: (string | null)[];
  stringIds: Map<string, number>;
}

const INITIAL = 1024;

export function createIndex(): RecordIndex {
  return {
    count: 0,
    receivedAt: new Float64Array(INITIAL),
    offset: new Float64Array(INITIAL),
    length: new Uint32Array(INITIAL),
    flags: new Uint8Array(INITIAL),
    event: new Uint32Array(INITIAL),
    status: new Uint32Array(INITIAL),
    signed: new Uint32Array(INITIAL),
    messageId: [],
    byMessageId: new Map(),
    strings: [null],
    normalized: [null],
    stringIds: new Map(),
  };
}

function grow<T extends Float64Array | Uint32Array | Uint8Array>(a: T, size: number): T {
  const next = new (a.constructor as new (n: number) => T)(size);
  next.set(a);
  return next;
}

function intern(index: RecordIndex, s: string | null): number {
  if (s === null) return 0;
  let id = index.stringIds.get(s);
  if (id === undefined) {
    id = index.strings.length;
    index.strings.push(s);
    index.normalized.push(normalizeStatus(s));
    index.stringIds.set(s, id);
  }
  return id;
}

/** Adds the record with key index.count + 1 (positional arguments: replay calls this 100,000 times). */
export function addEntry(
  index: RecordIndex,
  meta: RecordMeta,
  receivedAtMs: number,
  offset: number,
  length: number,
  text: boolean,
): number {
  const i = index.count;
  if (i === index.receivedAt.length) {
    const size = i * 2;
    index.receivedAt = grow(index.receivedAt, size);
    index.offset = grow(index.offset, size);
    index.length = grow(index.length, size);
    index.flags = grow(index.flags, size);
    index.event = grow(index.event, size);
    index.status = grow(index.status, size);
    index.signed = grow(index.signed, size);
  }
  index.receivedAt[i] = receivedAtMs;
  index.offset[i] = offset;
  index.length[i] = length;
  index.flags[i] = (text ? 1 : 0) | (tristate(meta.liveMode) << 1) | (tristate(meta.verified) << 3);
  index.event[i] = intern(index, meta.event);
  index.status[i] = intern(index, meta.status);
  index.signed[i] = intern(index, meta.signed == null ? null : meta.signed.join(' '));
  index.messageId.push(meta.messageId);
  if (meta.messageId !== null && !index.byMessageId.has(meta.messageId)) index.byMessageId.set(meta.messageId, i + 1);
  index.count = i + 1;
  return i + 1;
}

/** 0 null, 1 false, 2 true: two bits of `flags`. */
const tristate = (value: boolean | null | undefined) => (value == null ? 0 : value ? 2 : 1);
const fromTristate = (bits: number) => (bits === 0 ? null : bits === 2);

export function isText(index: RecordIndex, i: number): boolean {
  return (index.flags[i]! & 1) === 1;
}

/** The record at position i, built in one object: a dump makes 100,000 of them. */
function recordAt(index: RecordIndex, i: number, body: Buffer): StoredRecord {
  const flags = index.flags[i]!;
  const signed = index.strings[index.signed[i]!] ?? null;
  return {
    key: i + 1,
    receivedAt: new Date(index.receivedAt[i]!).toISOString(),
    messageId: index.messageId[i] ?? null,
    event: index.strings[index.event[i]!] ?? null,
    status: index.strings[index.status[i]!] ?? null,
    liveMode: fromTristate((flags >> 1) & 3),
    verified: fromTristate((flags >> 3) & 3),
    signed: signed === null ? null : signed.split(' '),
    body,
  };
}

/**
 * Positions (key - 1) of the records matching the metadata filters, in the asked order, among the first
 * `count` records (a snapshot: records appended meanwhile are not included). `q` and `limit` are the
 * caller's, since they need the body.
 */
export function* selectPositions(index: RecordIndex, filter: RecordFilter, count: number): Generator<number> {
  const from = Math.max(0, filter.since ?? 0);
  const to = Math.min(count, filter.before === undefined ? count : filter.before - 1);
  const wantEvent = filter.event;
  const wantStatus = filter.status === undefined ? undefined : normalizeStatus(filter.status);
  const wantLive = filter.liveMode === undefined ? -1 : filter.liveMode ? 2 : 1;
  const matches = (i: number) => {
    if (wantEvent !== undefined && index.strings[index.event[i]!] !== wantEvent) return false;
    if (wantStatus !== undefined && index.normalized[index.status[i]!] !== wantStatus) return false;
    if (wantLive !== -1 && ((index.flags[i]! >> 1) & 3) !== wantLive) return false;
    return true;
  };
  if (filter.order === 'desc') {
    for (let i = to - 1; i >= from; i--) if (matches(i)) yield i;
  } else {
    for (let i = from; i < to; i++) if (matches(i)) yield i;
  }
}

/** Case-insensitive substring test on the raw body. */
export function bodyContains(body: Buffer, needleLower: string): boolean {
  return body.toString('utf8').toLowerCase().includes(needleLower);
}

/**
 * The records of `index` that match `filter`, in its order, each body fetched by `bodyAt` (synchronously for
 * the memory store, from the file for the file store). Stops as soon as `current()` turns false (the store was
 * cleared under the reader) or `bodyAt` answers null (the bytes are gone).
 */
export async function* matchingRecords(
  index: RecordIndex,
  filter: RecordFilter,
  current: () => boolean,
  bodyAt: (position: number) => Buffer | null | Promise<Buffer | null>,
): AsyncGenerator<StoredRecord> {
  const limit = filter.limit ?? Infinity;
  if (limit <= 0) return;
  const needle = filter.q === undefined || filter.q === '' ? null : filter.q.toLowerCase();
  let emitted = 0;
  for (const i of selectPositions(index, filter, index.count)) {
    if (!current()) return;
    const fetched = bodyAt(i);
    const body = fetched instanceof Promise ? await fetched : fetched;
    if (body === null || !current()) return;
    if (needle !== null && !bodyContains(body, needle)) continue;
    yield recordAt(index, i, body);
    if (++emitted >= limit) return;
  }
}
