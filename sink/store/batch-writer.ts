import { writeFully } from './file-ops.js';
import type { Listeners } from './listeners.js';
import { prepareRecord, writeRecord, type PreparedRecord } from './record.js';
import { addEntry } from './record-index.js';
import type { FileState } from './store-state.js';
import type { AppendResult, RecordMeta, StoredRecord } from './types.js';

/**
 * Keys and group commit. Every append goes through one queue. When the writer is free it takes everything
 * waiting at that moment as one batch, gives the batch the next consecutive keys, and writes it with one
 * positional write at the end of the last good record, made durable as the platform allows (fileOpsFor).
 * Only then are the keys committed (index, size) and the requests answered, so a 200 always means "on
 * disk". If the write or its sync fails, the whole batch is rolled back: the file is truncated to the offset
 * before the batch, the keys are not consumed (the next batch gets the same ones) and every request of the
 * batch is answered with an error. Concurrency therefore never creates gaps or duplicates, and the cost of
 * reaching the disk is shared by all the requests that arrived meanwhile.
 */

export interface Pending {
  body: Buffer;
  meta: RecordMeta;
  receivedAtMs: number;
  resolve: (result: AppendResult) => void;
}

export interface BatchWriterOptions {
  /** The platform's writes are durable by themselves (O_DSYNC): no datasync after them. */
  syncedWrites: boolean;
  maxBytes: number;
  listeners: Listeners;
}

export interface BatchWriter {
  /** Queues an append: it joins the batch written once the current turn of the event loop is over. */
  enqueue(item: Pending): void;
  /** Runs `fn` when the file is free: batches and other file operations (clear, close) take turns. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Writes what is queued now, in its turn. */
  flush(): Promise<void>;
}

const BATCH_BUFFER = 64 * 1024;
const MAX_BATCH_BUFFER = 1 << 20;

const isDiskFull = (err: unknown) => {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
};

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createBatchWriter(state: FileState, options: BatchWriterOptions): BatchWriter {
  const { listeners } = options;
  const queue: Pending[] = [];

  // One operation on the file at a time.
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };

  // The batch is written from one buffer, kept for the next batch: a batch writes tens of records, and a
  // buffer of its own per record and per batch made work for the garbage collector on every request.
  let batchBuffer = Buffer.allocUnsafe(BATCH_BUFFER);
  const bufferFor = (bytes: number) => {
    if (bytes > MAX_BATCH_BUFFER) return Buffer.allocUnsafe(bytes); // a rare huge batch is not kept
    if (bytes > batchBuffer.length) {
      batchBuffer = Buffer.allocUnsafe(Math.min(MAX_BATCH_BUFFER, Math.max(bytes, 2 * batchBuffer.length)));
    }
    return batchBuffer;
  };

  /** Gives the batch its keys and lays its records out in one buffer; a record past maxBytes answers full. */
  function layOut(batch: Pending[]) {
    const start = state.size;
    let end = start;
    let key = state.index.count;
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
    const out = bufferFor(end - start);
    for (const a of accepted) writeRecord(a.record, out, a.offset - start);
    return { start, end, accepted, data: out.subarray(0, end - start) };
  }

  /** Writes `data` at `start` durably, or leaves nothing of it in the file and throws. */
  async function writeDurably(data: Buffer, start: number): Promise<void> {
    try {
      if (state.dirtyTail) {
        await state.file.truncate(start);
        state.dirtyTail = false;
      }
      await writeFully(state.file, data, start);
      if (!options.syncedWrites) await state.file.datasync();
    } catch (err) {
      // Roll back: nothing of this batch may survive, so no torn or unacknowledged record stays behind.
      state.dirtyTail = true;
      try {
        await state.file.truncate(start);
        state.dirtyTail = false;
      } catch {
        // Retried before the next write; replay would cut it after a crash anyway.
      }
      throw err;
    }
  }

  async function commitBatch(batch: Pending[]): Promise<void> {
    const { start, end, accepted, data } = layOut(batch);
    if (accepted.length === 0) return;
    try {
      await writeDurably(data, start);
    } catch (err) {
      const result: AppendResult = isDiskFull(err)
        ? { status: 'full' }
        : { status: 'error', message: errorMessage(err) };
      for (const a of accepted) a.item.resolve(result);
      return;
    }
    const announced: StoredRecord[] = [];
    for (const { item, record, offset } of accepted) {
      const bodyAt = offset + record.bodyOffset;
      const key = addEntry(state.index, item.meta, item.receivedAtMs, bodyAt, record.bodyLength, record.text);
      item.resolve({ status: 'stored', key });
      if (listeners.active) {
        announced.push({ ...item.meta, key, receivedAt: new Date(item.receivedAtMs).toISOString(), body: item.body });
      }
    }
    state.size = end;
    for (const record of announced) listeners.appended(record);
  }

  const drain = async () => {
    const batch = queue.splice(0, queue.length);
    if (batch.length > 0) await commitBatch(batch);
  };

  let batchScheduled = false;
  return {
    enqueue(item) {
      queue.push(item);
      if (batchScheduled) return;
      batchScheduled = true;
      // setImmediate rather than now: every request whose body completed in this turn of the event loop joins.
      setImmediate(() => {
        void exclusive(async () => {
          batchScheduled = false;
          await drain();
        });
      });
    },
    exclusive,
    flush: () => exclusive(drain),
  };
}
