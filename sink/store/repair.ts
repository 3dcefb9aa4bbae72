import { readFully, type StoreFileHandle, type StoreFileOps } from './file-ops.js';
import { createReplayScanner } from './record.js';
import { addEntry, createIndex, type RecordIndex } from './record-index.js';

/**
 * Opening the data file: replay every record into a fresh index, and cut whatever follows the last intact
 * one (a record torn by a crash, or damage). Intact records past damage are copied aside before the cut.
 */

export interface RepairReport {
  /** Bytes cut from the end of the file (a torn record, or damage). */
  droppedBytes: number;
  /** Intact records that followed the damage, saved to `savedTo` rather than silently dropped. */
  strandedRecords: number;
  savedTo: string | null;
}

export interface Replayed {
  index: RecordIndex;
  /** Bytes of intact records: the file's length once repaired. */
  size: number;
  /** What was repaired, null when the file was clean. */
  repair: RepairReport | null;
}

const READ_CHUNK = 1 << 20;

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

/** Replays `file` (at `path` in `dir`) and repairs it: on return its length is `size`, and durable. */
export async function replayAndRepair(
  file: StoreFileHandle,
  ops: StoreFileOps,
  where: { dir: string; path: string },
  now: () => number,
): Promise<Replayed> {
  const index = createIndex();
  const outcome = await replay(file, index);
  if (outcome.goodBytes === outcome.totalBytes) return { index, size: outcome.goodBytes, repair: null };
  let savedTo: string | null = null;
  if (outcome.strandedRecords > 0) {
    // Damage in the middle: keep the bytes past it for a human rather than dropping records silently.
    const tail = Buffer.allocUnsafe(outcome.totalBytes - outcome.goodBytes);
    await readFully(file, tail, outcome.goodBytes);
    savedTo = `${where.path}.damaged-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`;
    // Those records were acknowledged once: their copy is on disk, name included, before the cut below.
    await ops.writeNewFile(savedTo, tail);
    await ops.syncDirectory(where.dir);
  }
  await file.truncate(outcome.goodBytes);
  await file.datasync();
  const droppedBytes = outcome.totalBytes - outcome.goodBytes;
  const repair = { droppedBytes, strandedRecords: outcome.strandedRecords, savedTo };
  return { index, size: outcome.goodBytes, repair };
}
