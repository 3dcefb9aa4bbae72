import { readFully } from './file-ops.js';
import { decodeStoredBody } from './record.js';
import { isText, matchingRecords } from './record-index.js';
import type { FileState } from './store-state.js';
import type { ReadOptions, RecordFilter, StoredRecord } from './types.js';

/**
 * Reading records back from the data file. Bodies are read in windows of the file, so a dump costs a few
 * reads, not one per record; a transient reader's window buffer is reused from read to read. A clear() under
 * the reader ends it.
 */

const WINDOW = 256 * 1024;

export function readRecords(
  state: FileState,
  filter: RecordFilter,
  options: ReadOptions,
): AsyncGenerator<StoredRecord> {
  const gen = state.generation;
  const idx = state.index;
  let buffer: Buffer | null = null;
  let window: Buffer = Buffer.alloc(0);
  let winStart = 0;

  /** Reads the window holding [offset, offset + length); false when those bytes are gone (cleared). */
  const refill = async (offset: number, length: number): Promise<boolean> => {
    const span = Math.max(WINDOW, length);
    winStart = filter.order === 'desc' ? Math.max(0, offset + length - span) : offset;
    const want = Math.min(span, Math.max(length, state.size - winStart));
    const buf = options.transient && buffer !== null && buffer.length >= want ? buffer : Buffer.allocUnsafe(want);
    if (options.transient) buffer = buf;
    const n = await readFully(state.file, buf.subarray(0, want), winStart);
    if (gen !== state.generation) return false;
    window = buf.subarray(0, n);
    return offset + length <= winStart + n;
  };
  const stored = (i: number, offset: number, length: number) =>
    decodeStoredBody(window.subarray(offset - winStart, offset - winStart + length), isText(idx, i));
  const bodyAt = (i: number): Buffer | null | Promise<Buffer | null> => {
    const offset = idx.offset[i]!;
    const length = idx.length[i]!;
    if (offset >= winStart && offset + length <= winStart + window.length) return stored(i, offset, length);
    return refill(offset, length).then((ok) => (ok ? stored(i, offset, length) : null));
  };
  return matchingRecords(idx, filter, () => gen === state.generation, bodyAt);
}
