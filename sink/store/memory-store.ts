import { encodedLength, isoTime } from './record.js';
import { addEntry, bodyContains, createIndex, metaAt, selectPositions } from './record-index.js';
import type { AppendResult, RecordFilter, RecordMeta, StoreListener, StoredRecord, WebhookStore } from './types.js';

/**
 * The throwaway store: the file store's behaviour (consecutive keys, idempotency, capacity counted in the
 * same encoded bytes, filters) with the bodies kept in memory and nothing on disk. JavaScript runs one
 * append at a time, so keys are assigned synchronously with no queue.
 */
export interface MemoryStoreOptions {
  maxBytes: number;
  now?: () => number;
}

export function createMemoryStore(options: MemoryStoreOptions): WebhookStore {
  const now = options.now ?? Date.now;
  let index = createIndex();
  let bodies: Buffer[] = [];
  let size = 0;
  let closed = false;
  let generation = 0;
  const listeners = new Set<{ append: StoreListener; clear: (() => void) | undefined }>();

  function append(body: Buffer, meta: RecordMeta): Promise<AppendResult> {
    if (closed) return Promise.resolve({ status: 'error', message: 'the store is closed' });
    if (meta.messageId !== null) {
      const key = index.byMessageId.get(meta.messageId);
      if (key !== undefined) return Promise.resolve({ status: 'duplicate', key });
    }
    const receivedAtMs = now();
    const length = encodedLength(index.count + 1, receivedAtMs, meta, body);
    if (size + length > options.maxBytes) return Promise.resolve({ status: 'full' });
    const key = addEntry(index, meta, receivedAtMs, 0, body.length, false);
    bodies.push(body);
    size += length;
    if (listeners.size > 0) {
      const record: StoredRecord = { ...meta, key, receivedAt: isoTime(receivedAtMs), body };
      for (const l of listeners) {
        try {
          l.append(record);
        } catch {
          // A listener's failure is its own; the record is stored.
        }
      }
    }
    return Promise.resolve({ status: 'stored', key });
  }

  async function* records(filter: RecordFilter = {}): AsyncGenerator<StoredRecord> {
    const gen = generation;
    const idx = index;
    const held = bodies;
    const limit = filter.limit ?? Infinity;
    if (limit <= 0) return;
    const needle = filter.q === undefined || filter.q === '' ? null : filter.q.toLowerCase();
    let emitted = 0;
    for (const i of selectPositions(idx, filter, idx.count)) {
      if (gen !== generation) return;
      const body = held[i]!;
      if (needle !== null && !bodyContains(body, needle)) continue;
      yield { ...metaAt(idx, i), body };
      if (++emitted >= limit) return;
    }
  }

  return {
    kind: 'memory',
    location: null,
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
    clear: async () => {
      index = createIndex();
      bodies = [];
      size = 0;
      generation += 1;
      for (const l of listeners) {
        try {
          l.clear?.();
        } catch {
          // see append()
        }
      }
    },
    close: async () => {
      closed = true;
    },
    subscribe(listener, onClear) {
      const entry = { append: listener, clear: onClear };
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
  };
}
