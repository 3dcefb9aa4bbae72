import { checkMeta } from './meta-limits.js';
import { encodedLength } from './record.js';
import { createListeners } from './listeners.js';
import { addEntry, createIndex, matchingRecords } from './record-index.js';
import { resetState, storeFigures, type StoreState } from './store-state.js';
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
  const state: StoreState = { index: createIndex(), size: 0, generation: 0 };
  let bodies: Buffer[] = [];
  let closed = false;
  const listeners = createListeners();

  function append(body: Buffer, meta: RecordMeta): Promise<AppendResult> {
    if (closed) return Promise.resolve({ status: 'error', message: 'the store is closed' });
    const valid = checkMeta(meta);
    if (!valid.ok) return Promise.resolve({ status: 'invalid', message: valid.message });
    if (meta.messageId !== null) {
      const key = state.index.byMessageId.get(meta.messageId);
      if (key !== undefined) return Promise.resolve({ status: 'duplicate', key });
    }
    const receivedAtMs = now();
    const length = encodedLength(state.index.count + 1, receivedAtMs, meta, body);
    if (state.size + length > options.maxBytes) return Promise.resolve({ status: 'full' });
    const key = addEntry(state.index, meta, receivedAtMs, 0, body.length, false);
    bodies.push(body);
    state.size += length;
    if (listeners.active) listeners.appended({ ...meta, key, receivedAt: new Date(receivedAtMs).toISOString(), body });
    return Promise.resolve({ status: 'stored', key });
  }

  function records(filter: RecordFilter = {}): AsyncGenerator<StoredRecord> {
    const gen = state.generation;
    const held = bodies;
    return matchingRecords(
      state.index,
      filter,
      () => gen === state.generation,
      (i) => held[i]!,
    );
  }

  return Object.assign(storeFigures(state, options.maxBytes), {
    kind: 'memory' as const,
    location: null,
    append,
    records,
    clear: async () => {
      resetState(state);
      bodies = [];
      listeners.cleared();
    },
    close: async () => {
      closed = true;
    },
    subscribe: listeners.subscribe,
  });
}
