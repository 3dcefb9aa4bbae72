import type { StoreListener, StoredRecord } from './types.js';

/**
 * A store's subscribers (the live event stream): told after each durable append and after each clear. A
 * listener that throws fails alone: the others are still told, and the store's own state stands.
 */
export function createListeners() {
  const entries = new Set<{ append: StoreListener; clear: (() => void) | undefined }>();
  const each = (call: (entry: { append: StoreListener; clear: (() => void) | undefined }) => void) => {
    for (const entry of entries) {
      try {
        call(entry);
      } catch {
        // A listener's failure is its own.
      }
    }
  };
  return {
    /** Whether anyone listens: a store builds the records to announce only then. */
    get active(): boolean {
      return entries.size > 0;
    },
    appended: (record: StoredRecord) => each((entry) => entry.append(record)),
    cleared: () => each((entry) => entry.clear?.()),
    subscribe(listener: StoreListener, onClear?: () => void): () => void {
      const entry = { append: listener, clear: onClear };
      entries.add(entry);
      return () => {
        entries.delete(entry);
      };
    },
  };
}

export type Listeners = ReturnType<typeof createListeners>;
