import { crc32 } from 'node:zlib';
import type { RecordMeta } from './types.js';

/**
 * The on-disk record: one JSON line per webhook,
 *   {"key":1,"receivedAt":"…","messageId":"…","event":"…","status":"…","liveMode":true,
 *    "verified":true,"signed":["content-type","content-digest"],"crc":123,"body":<body>}\n
 * (`verified` and `signed` only when the sink verified UP42's signature; records written before they existed
 * read as not checked).
 * The metadata comes first so replay parses only that short head, never the body. `body` is the received
 * JSON embedded byte for byte; a body containing CR or LF cannot sit on one line, so it is kept instead as a
 * JSON string, `"bodyText":"…"`, which still restores the exact bytes. `crc` (CRC-32 of the body bytes) lets
 * replay tell a complete record from a torn or zero-filled one after a crash.
 * Pure: no I/O here.
 */

// What ends a record's head and opens its body, as written (prepareRecord) and as found again (parseRecordLine).
const BODY_KEY = ',"body":';
const TEXT_KEY = ',"bodyText":';
const BODY_SEP = Buffer.from(BODY_KEY);
const TEXT_SEP = Buffer.from(TEXT_KEY);
const LF = 0x0a;
const CR = 0x0d;
const CLOSE_BRACE = 0x7d;
const RECORD_TAIL = Buffer.from('}\n');

export interface EncodedRecord {
  line: Buffer;
  /** Where the stored body starts, relative to the line start. */
  bodyOffset: number;
  bodyLength: number;
  /** true: the body is stored as a JSON string (`bodyText`). */
  text: boolean;
}

export function hasLineBreak(body: Buffer): boolean {
  return body.indexOf(LF) !== -1 || body.indexOf(CR) !== -1;
}

function head(key: number, receivedAtMs: number, meta: RecordMeta, crc: number): string {
  return (
    `{"key":${key},"receivedAt":"${new Date(receivedAtMs).toISOString()}"` +
    `,"messageId":${JSON.stringify(meta.messageId)},"event":${JSON.stringify(meta.event)}` +
    `,"status":${JSON.stringify(meta.status)},"liveMode":${meta.liveMode === null ? 'null' : String(meta.liveMode)}` +
    (meta.verified == null ? '' : `,"verified":${meta.verified},"signed":${JSON.stringify(meta.signed ?? null)}`) +
    `,"crc":${crc}`
  );
}

/** A record whose line is measured but not yet written: a batch of them is written into one buffer. */
export interface PreparedRecord {
  /** Bytes of the whole line, LF included. */
  length: number;
  /** Where the stored body starts, relative to the line start. */
  bodyOffset: number;
  bodyLength: number;
  /** true: the body is stored as a JSON string (`bodyText`). */
  text: boolean;
  /** Everything before the stored body. */
  start: string;
  stored: Buffer | string;
}

/** `body` must be valid UTF-8 JSON (the HTTP layer checks); any such body makes a valid JSON line. */
export function prepareRecord(key: number, receivedAtMs: number, meta: RecordMeta, body: Buffer): PreparedRecord {
  const prefix = head(key, receivedAtMs, meta, crc32(body));
  if (!hasLineBreak(body)) {
    const start = prefix + BODY_KEY;
    const bodyOffset = Buffer.byteLength(start);
    const length = bodyOffset + body.length + RECORD_TAIL.length;
    return { length, bodyOffset, bodyLength: body.length, text: false, start, stored: body };
  }
  const start = prefix + TEXT_KEY;
  const stored = JSON.stringify(body.toString('utf8'));
  const bodyOffset = Buffer.byteLength(start);
  const bodyLength = Buffer.byteLength(stored);
  return { length: bodyOffset + bodyLength + RECORD_TAIL.length, bodyOffset, bodyLength, text: true, start, stored };
}

/** Writes the prepared line into `out` at `at`; `out` has room for `record.length` bytes there. */
export function writeRecord(record: PreparedRecord, out: Buffer, at: number): void {
  out.write(record.start, at, 'utf8');
  const bodyAt = at + record.bodyOffset;
  if (typeof record.stored === 'string') out.write(record.stored, bodyAt, 'utf8');
  else record.stored.copy(out, bodyAt);
  RECORD_TAIL.copy(out, bodyAt + record.bodyLength);
}

export function encodeRecord(key: number, receivedAtMs: number, meta: RecordMeta, body: Buffer): EncodedRecord {
  const record = prepareRecord(key, receivedAtMs, meta, body);
  const line = Buffer.allocUnsafe(record.length);
  writeRecord(record, line, 0);
  return { line, bodyOffset: record.bodyOffset, bodyLength: record.bodyLength, text: record.text };
}

/** The length encodeRecord's line would have, without building it (the memory store's accounting). */
export function encodedLength(key: number, receivedAtMs: number, meta: RecordMeta, body: Buffer): number {
  return prepareRecord(key, receivedAtMs, meta, body).length;
}

/** The received bytes of a body as the record stores them (`text`: a JSON string). */
export function decodeStoredBody(stored: Buffer, text: boolean): Buffer {
  return text ? Buffer.from(JSON.parse(stored.toString('utf8')) as string, 'utf8') : stored;
}

export interface ParsedRecord extends RecordMeta {
  key: number;
  receivedAtMs: number;
  /** Relative to the buffer given to parseRecordLine. */
  bodyOffset: number;
  bodyLength: number;
  text: boolean;
}

const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';

/**
 * Parses the line buf[start, end) (end: index of its LF). null when it is not a complete, intact record:
 * bad head, bad body checksum, wrong shape.
 */
export function parseRecordLine(buf: Buffer, start: number, end: number): ParsedRecord | null {
  if (end - start < 2 || buf[end - 1] !== CLOSE_BRACE) return null;
  let sep = buf.indexOf(BODY_SEP, start);
  let text = false;
  if (sep === -1 || sep >= end) {
    sep = buf.indexOf(TEXT_SEP, start);
    if (sep === -1 || sep >= end) return null;
    text = true;
  }
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(buf.toString('utf8', start, sep) + '}') as Record<string, unknown>;
  } catch {
    return null;
  }
  const { key, receivedAt, messageId, event, status, liveMode, crc, verified, signed } = h;
  if (typeof key !== 'number' || !Number.isSafeInteger(key) || key < 1) return null;
  if (typeof receivedAt !== 'string' || typeof crc !== 'number') return null;
  if (!isNullableString(messageId) || !isNullableString(event) || !isNullableString(status)) return null;
  if (liveMode !== null && typeof liveMode !== 'boolean') return null;
  const receivedAtMs = Date.parse(receivedAt);
  if (Number.isNaN(receivedAtMs)) return null;
  const bodyOffset = sep + (text ? TEXT_SEP.length : BODY_SEP.length);
  const bodyLength = end - 1 - bodyOffset;
  if (bodyLength <= 0) return null;
  const stored = buf.subarray(bodyOffset, bodyOffset + bodyLength);
  let raw: Buffer;
  try {
    raw = decodeStoredBody(stored, text);
  } catch {
    return null;
  }
  if (crc32(raw) !== crc) return null;
  const signature = {
    verified: typeof verified === 'boolean' ? verified : null,
    signed: Array.isArray(signed) && signed.every((c) => typeof c === 'string') ? (signed as string[]) : null,
  };
  return { key, receivedAtMs, messageId, event, status, liveMode, ...signature, bodyOffset, bodyLength, text };
}

export interface ReplayOutcome {
  /** Bytes of intact records from the start of the file; everything after them is to be cut. */
  goodBytes: number;
  totalBytes: number;
  records: number;
  /** Intact records found after the damage (they cannot be kept: keys would no longer be consecutive). */
  strandedRecords: number;
}

/**
 * Streaming replay: feed the file in chunks, get each intact record (with its absolute body offset) in
 * order. Records must carry keys 1, 2, 3, … A line that is torn, zero-filled, fails its checksum or breaks
 * the key sequence ends the good prefix; whatever follows is reported for the caller to cut (and keep aside
 * when it still holds intact records).
 */
export function createReplayScanner(onRecord: (record: ParsedRecord, lineOffset: number, lineLength: number) => void) {
  // One growing work buffer: the caller may reuse its chunk buffer, and replay allocates no buffer per chunk.
  let work = Buffer.allocUnsafe(0);
  let held = 0; // bytes of an incomplete line at the start of `work`
  let goodBytes = 0;
  let totalBytes = 0;
  let records = 0;
  let damaged = false;
  let stranded = 0;

  const line = (buf: Buffer, start: number, end: number, fileOffset: number) => {
    const parsed = parseRecordLine(buf, start, end);
    if (!damaged && parsed !== null && parsed.key === records + 1) {
      records += 1;
      goodBytes = fileOffset + (end + 1 - start);
      parsed.bodyOffset = fileOffset + (parsed.bodyOffset - start);
      onRecord(parsed, fileOffset, end + 1 - start);
      return;
    }
    // An intact record past the good prefix (or one out of sequence) is data the cut would lose.
    if (parsed !== null) stranded += 1;
    damaged = true;
  };

  return {
    push(chunk: Buffer): void {
      if (held + chunk.length > work.length) {
        const next = Buffer.allocUnsafe(Math.max(held + chunk.length, work.length * 2));
        work.copy(next, 0, 0, held);
        work = next;
      }
      chunk.copy(work, held);
      const end = held + chunk.length;
      const base = totalBytes - held;
      totalBytes += chunk.length;
      let start = 0;
      for (;;) {
        const nl = work.indexOf(LF, start);
        if (nl === -1 || nl >= end) break;
        line(work, start, nl, base + start);
        start = nl + 1;
      }
      work.copy(work, 0, start, end);
      held = end - start;
    },
    end(): ReplayOutcome {
      // A last line without its LF was never completely written, so never acknowledged.
      return { goodBytes, totalBytes, records, strandedRecords: stranded };
    },
  };
}
