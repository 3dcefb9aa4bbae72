import { encodedLength, isoTime } from './record.js';
import { createListeners } from './listeners.js';
import { addEntry, createIndex, matchingRecords } from './record-index.js';
import type { AppendResult, RecordFilter, RecordMeta, StoredRecord, WebhookStore } from './types.js';

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
  const listeners = createListeners();

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
    if (listeners.active) listeners.appended({ ...meta, key, receivedAt: isoTime(receivedAtMs), body });
    return Promise.resolve({ status: 'stored', key });
  }

  function records(filter: RecordFilter = {}): AsyncGenerator<StoredRecord> {
    const gen = generation;
    const held = bodies;
    return matchingRecords(index, filter, () => gen === generation, (i) => held[i]!);
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
      listeners.cleared();
    },
    close: async () => {
      closed = true;
    },
    subscribe: listeners.subscribe,
  };
}
