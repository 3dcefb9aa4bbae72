import { constants as fsConstants, promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { createReplayScanner, decodeStoredBody, isoTime, prepareRecord, writeRecord, type PreparedRecord } from './record.js';
import { lockDataDir } from './data-lock.js';
import { createListeners } from './listeners.js';
import { addEntry, createIndex, isText, matchingRecords, type RecordIndex } from './record-index.js';
import type { AppendResult, ReadOptions, RecordFilter, RecordMeta, StoredRecord, WebhookStore } from './types.js';

/**
 * The durable store: an append-only JSON-lines file (see record.ts) plus an in-memory index; bodies are read
 * back from the file when dumped.
 *
 * Keys and group commit. Every append goes through one queue. When the writer is free it takes everything
 * waiting at that moment as one batch, gives the batch the next consecutive keys, and writes it with one
 * positional write at the end of the last good record, made durable as the platform allows (fileOpsFor).
 * Only then are the keys committed (index, lastKey, size) and the requests answered, so a 200 always means
 * "on disk". If the write or its sync fails, the whole batch is rolled back: the file is truncated to the
 * offset before the batch, the keys are not consumed (the next batch gets the same ones) and every request
 * of the batch is answered with an error. Concurrency therefore never creates gaps or duplicates, and the
 * cost of reaching the disk is shared by all the requests that arrived meanwhile.
 */

/** The file operations the store needs: an fs.promises FileHandle fits; tests inject failing ones. */
export interface StoreFileHandle {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** With `syncedWrites`, resolves only once the bytes are durable. */
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

export interface StoreFileOps {
  /** Opens `path` for reading and writing, creating it when missing. */
  open(path: string): Promise<StoreFileHandle>;
  /** true: a write resolves only once its bytes are durable (O_DSYNC); false: datasync() follows each batch's write. */
  syncedWrites: boolean;
  /** Writes `data` to a new file at `path` and resolves once its bytes are on disk. */
  writeNewFile(path: string, data: Buffer): Promise<void>;
  /** Makes the names in `dir` durable: a file just created there, or created before a crash. */
  syncDirectory(dir: string): Promise<void>;
}

async function writeNewFile(path: string, data: Buffer): Promise<void> {
  const file = await fsp.open(path, 'wx', 0o600);
  try {
    await file.writeFile(data);
    await file.datasync();
  } finally {
    await file.close();
  }
}

/**
 * Errors that say a file system cannot sync a directory at all (some network and container mounts), not
 * that a sync failed. Ignored, as databases do: refusing them would keep the sink from starting there.
 */
const CANNOT_SYNC_DIRECTORY = new Set(['EISDIR', 'EACCES', 'EPERM', 'EBADF', 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP']);

/** POSIX wants a directory synced for a new name in it to survive a crash; Windows cannot open a directory. */
export async function syncDirectory(
  dir: string,
  platform: NodeJS.Platform,
  open: (path: string, flags: string) => Promise<{ sync(): Promise<void>; close(): Promise<void> }> = fsp.open,
): Promise<void> {
  if (platform === 'win32') return;
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (CANNOT_SYNC_DIRECTORY.has(String((err as { code?: unknown } | null)?.code))) return;
    throw err;
  }
}

/**
 * How a batch reaches the disk. On Linux the file is opened O_DSYNC: a write then completes as if fdatasync
 * followed it (the drive's cache flushed too), in one system call and one trip to libuv's thread pool rather
 * than two, which on a busy machine each wait for a thread to be scheduled. Elsewhere O_DSYNC is weaker or
 * missing: macOS does not flush the drive's cache for it (libuv's fdatasync there is F_FULLFSYNC, which does),
 * and Windows has no O_DSYNC at all (its fdatasync is FlushFileBuffers). There the write is followed by
 * fdatasync.
 */
export function fileOpsFor(platform: NodeJS.Platform, constants: { O_DSYNC?: number } = fsConstants): StoreFileOps {
  const dsync = platform === 'linux' ? constants.O_DSYNC : undefined;
  const flags = fsConstants.O_RDWR | fsConstants.O_CREAT | (dsync ?? 0);
  return {
    open: (path) => fsp.open(path, flags, 0o600),
    syncedWrites: dsync !== undefined,
    writeNewFile,
    syncDirectory: (dir) => syncDirectory(dir, platform),
  };
}

export const nodeFileOps: StoreFileOps = fileOpsFor(process.platform);

export const DATA_FILE = 'webhooks.jsonl';

export interface RepairReport {
  /** Bytes cut from the end of the file (a torn record, or damage). */
  droppedBytes: number;
  /** Intact records that followed the damage, saved to `savedTo` rather than silently dropped. */
  strandedRecords: number;
  savedTo: string | null;
}

export interface FileStore extends WebhookStore {
  readonly kind: 'file';
  readonly location: string;
  /** What replay repaired on open, null when the file was clean. */
  readonly repair: RepairReport | null;
}

export interface FileStoreOptions {
  dataDir: string;
  maxBytes: number;
  fileOps?: StoreFileOps;
  now?: () => number;
}

const READ_CHUNK = 1 << 20;
const BATCH_BUFFER = 64 * 1024;
const MAX_BATCH_BUFFER = 1 << 20;
const WINDOW = 256 * 1024;

interface Pending {
  body: Buffer;
  meta: RecordMeta;
  receivedAtMs: number;
  resolve: (result: AppendResult) => void;
}

const isDiskFull = (err: unknown) => {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
};

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function writeFully(file: StoreFileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await file.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw new Error('the write made no progress');
    done += bytesWritten;
  }
}

async function readFully(file: StoreFileHandle, buffer: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await file.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

async function replay(file: StoreFileHandle, index: RecordIndex) {
  const scanner = createReplayScanner((r) => {
    addEntry(index, r, r.receivedAtMs, r.bodyOffset, r.bodyLength, r.text);
  });
  const { size } = await file.stat();
  const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, size));
  let position = 0;
  while (position < size) {
    const { bytesRead } = await file.read(chunk, 0, Math.min(chunk.length, size - position), position);
    if (bytesRead === 0) break;
    scanner.push(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
    position += bytesRead;
  }
  return scanner.end();
}

export async function openFileStore(options: FileStoreOptions): Promise<FileStore> {
  const ops = options.fileOps ?? nodeFileOps;
  const now = options.now ?? Date.now;
  const dir = resolve(options.dataDir);
  const path = join(dir, DATA_FILE);
  await fsp.mkdir(dir, { recursive: true });
  const lock = await lockDataDir(dir);
  let file: StoreFileHandle;
  try {
    file = await ops.open(path);
    // The file may have just been created: its name must be on disk before any webhook in it is acknowledged.
    await ops.syncDirectory(dir);
  } catch (err) {
    await lock.release();
    throw err;
  }

  let index = createIndex();
  let repair: RepairReport | null = null;
  /** Bytes of committed records: the next batch is written here. */
  let size = 0;
  try {
    const outcome = await replay(file, index);
    size = outcome.goodBytes;
    if (outcome.goodBytes < outcome.totalBytes) {
      let savedTo: string | null = null;
      if (outcome.strandedRecords > 0) {
        // Damage in the middle: keep the bytes past it for a human rather than dropping records silently.
        const tail = Buffer.allocUnsafe(outcome.totalBytes - outcome.goodBytes);
        await readFully(file, tail, outcome.goodBytes);
        savedTo = `${path}.damaged-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`;
        // Those records were acknowledged once: their copy is on disk, name included, before the cut below.
        await ops.writeNewFile(savedTo, tail);
        await ops.syncDirectory(dir);
      }
      await file.truncate(outcome.goodBytes);
      await file.datasync();
      repair = { droppedBytes: outcome.totalBytes - outcome.goodBytes, strandedRecords: outcome.strandedRecords, savedTo };
    }
  } catch (err) {
    await file.close().catch(() => undefined);
    await lock.release();
    throw err;
  }

  let closed = false;
  let generation = 0;
  /** Set when a rollback truncate failed: bytes past `size` must be cut before the next write. */
  let dirtyTail = false;
  const queue: Pending[] = [];
  const inFlight = new Map<string, Promise<AppendResult>>();
  const listeners = createListeners();

  // One operation on the file at a time: batches and clear() run in turn.
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };

  let batchScheduled = false;
  const scheduleBatch = () => {
    if (batchScheduled) return;
    batchScheduled = true;
    // setImmediate rather than now: every request whose body completed in this turn of the event loop joins.
    setImmediate(() => {
      void exclusive(async () => {
        batchScheduled = false;
        const batch = queue.splice(0, queue.length);
        if (batch.length > 0) await commitBatch(batch);
      });
    });
  };

  // The batch is written from one buffer, kept for the next batch: a batch writes tens of records, and a
  // buffer of its own per record and per batch made work for the garbage collector on every request.
  let batchBuffer = Buffer.allocUnsafe(BATCH_BUFFER);
  const bufferFor = (bytes: number) => {
    if (bytes > MAX_BATCH_BUFFER) return Buffer.allocUnsafe(bytes); // a rare huge batch is not kept
    if (bytes > batchBuffer.length) batchBuffer = Buffer.allocUnsafe(Math.min(MAX_BATCH_BUFFER, Math.max(bytes, 2 * batchBuffer.length)));
    return batchBuffer;
  };

  async function commitBatch(batch: Pending[]): Promise<void> {
    const start = size;
    let end = size;
    let key = index.count;
    const accepted: { item: Pending; record: PreparedRecord; offset: number }[] = [];
    for (const item of batch) {
      const record = prepareRecord(key + 1, item.receivedAtMs, item.meta, item.body);
      if (end + record.length > options.maxBytes) {
        item.resolve({ status: 'full' });
        continue;
      }
      key += 1;
      accepted.push({ item, record, offset: end });
      end += record.length;
    }
    if (accepted.length === 0) return;
    const out = bufferFor(end - start);
    for (const a of accepted) writeRecord(a.record, out, a.offset - start);
    const data = out.subarray(0, end - start);
    try {
      if (dirtyTail) {
        await file.truncate(start);
        dirtyTail = false;
      }
      await writeFully(file, data, start);
      if (!ops.syncedWrites) await file.datasync();
    } catch (err) {
      // Roll back: nothing of this batch may survive, so no torn or unacknowledged record stays behind.
      dirtyTail = true;
      try {
        await file.truncate(start);
        dirtyTail = false;
      } catch {
        // Retried before the next write; replay would cut it after a crash anyway.
      }
      const result: AppendResult = isDiskFull(err) ? { status: 'full' } : { status: 'error', message: errorMessage(err) };
      for (const a of accepted) a.item.resolve(result);
      return;
    }
    const records: StoredRecord[] = [];
    for (const { item, record, offset } of accepted) {
      const k = addEntry(index, item.meta, item.receivedAtMs, offset + record.bodyOffset, record.bodyLength, record.text);
      item.resolve({ status: 'stored', key: k });
      if (listeners.active) records.push({ ...item.meta, key: k, receivedAt: isoTime(item.receivedAtMs), body: item.body });
    }
    size = end;
    for (const record of records) listeners.appended(record);
  }

  function append(body: Buffer, meta: RecordMeta): Promise<AppendResult> {
    if (closed) return Promise.resolve({ status: 'error', message: 'the store is closed' });
    const id = meta.messageId;
    if (id !== null) {
      const key = index.byMessageId.get(id);
      if (key !== undefined) return Promise.resolve({ status: 'duplicate', key });
      const first = inFlight.get(id);
      if (first !== undefined) {
        // A retry racing its original: answer with the original's key, or try again if the original failed.
        return first.then((r) => (r.status === 'stored' || r.status === 'duplicate' ? { status: 'duplicate', key: r.key } : append(body, meta)));
      }
    }
    const promise = new Promise<AppendResult>((resolvePromise) => {
      queue.push({ body, meta, receivedAtMs: now(), resolve: resolvePromise });
    });
    if (id !== null) {
      inFlight.set(id, promise);
      void promise.then(() => {
        if (inFlight.get(id) === promise) inFlight.delete(id);
      });
    }
    scheduleBatch();
    return promise;
  }

  function records(filter: RecordFilter = {}, options: ReadOptions = {}): AsyncGenerator<StoredRecord> {
    const gen = generation;
    const idx = index;
    // Bodies are read back in windows of the file, so a dump costs a few reads, not one per record. A
    // transient reader's window buffer is reused from read to read.
    let buffer: Buffer | null = null;
    let window: Buffer = Buffer.alloc(0);
    let winStart = 0;
    const refill = async (offset: number, length: number): Promise<boolean> => {
      const span = Math.max(WINDOW, length);
      winStart = filter.order === 'desc' ? Math.max(0, offset + length - span) : offset;
      const want = Math.min(span, Math.max(length, size - winStart));
      const buf = options.transient && buffer !== null && buffer.length >= want ? buffer : Buffer.allocUnsafe(want);
      if (options.transient) buffer = buf;
      const n = await readFully(file, buf.subarray(0, want), winStart);
      if (gen !== generation) return false;
      window = buf.subarray(0, n);
      return offset + length <= winStart + n; // false: cut under us (clear); nothing valid to read
    };
    const stored = (i: number, offset: number, length: number) =>
      decodeStoredBody(window.subarray(offset - winStart, offset - winStart + length), isText(idx, i));
    const bodyAt = (i: number): Buffer | null | Promise<Buffer | null> => {
      const offset = idx.offset[i]!;
      const length = idx.length[i]!;
      if (offset >= winStart && offset + length <= winStart + window.length) return stored(i, offset, length);
      return refill(offset, length).then((ok) => (ok ? stored(i, offset, length) : null));
    };
    return matchingRecords(idx, filter, () => gen === generation, bodyAt);
  }

  const store: FileStore = {
    kind: 'file',
    location: path,
    repair,
    get count() {
      return index.count;
    },
    get bytes() {
      return size;
    },
    maxBytes: options.maxBytes,
    get lastKey() {
      return index.count;
    },
    append,
    records,
    clear: () =>
      exclusive(async () => {
        await file.truncate(0);
        await file.datasync();
        index = createIndex();
        size = 0;
        dirtyTail = false;
        generation += 1;
        listeners.cleared();
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      await exclusive(async () => {
        const batch = queue.splice(0, queue.length);
        if (batch.length > 0) await commitBatch(batch);
      });
      await exclusive(() => file.close());
      await lock.release();
    },
    subscribe: listeners.subscribe,
  };
  return store;
}
