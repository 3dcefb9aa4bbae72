import type { StoreFileHandle } from './file-ops.js';
import { createIndex, type RecordIndex } from './record-index.js';

/** The state a store's parts share, and the figures every store reports from it. */
export interface StoreState {
  index: RecordIndex;
  /** Bytes the records take, as encoded on disk. */
  size: number;
  /** Bumped by clear(): a reader of an earlier generation stops. */
  generation: number;
}

export interface FileState extends StoreState {
  readonly file: StoreFileHandle;
  /** Set when a rollback truncate failed: bytes past `size` must be cut before the next write. */
  dirtyTail: boolean;
}

/** Empties the state: keys start again at 1 and readers of the old records stop. */
export function resetState(state: StoreState): void {
  state.index = createIndex();
  state.size = 0;
  state.generation += 1;
}

/** The read-only figures of WebhookStore, read live from `state`. */
export function storeFigures(state: StoreState, maxBytes: number) {
  return {
    get count(): number {
      return state.index.count;
    },
    get bytes(): number {
      return state.size;
    },
    maxBytes,
    /** Keys are consecutive from 1: the last is the count. */
    get lastKey(): number {
      return state.index.count;
    },
  };
}
