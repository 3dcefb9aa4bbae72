import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { createBatchWriter } from './batch-writer.js';
import { lockDataDir } from './data-lock.js';
import { nodeFileOps, type StoreFileHandle, type StoreFileOps } from './file-ops.js';
import { readRecords } from './file-reader.js';
import { createListeners } from './listeners.js';
import { checkMeta } from './meta-limits.js';
import { replayAndRepair, type RepairReport, type Replayed } from './repair.js';
import { resetState, storeFigures, type FileState } from './store-state.js';
import type { AppendResult, RecordMeta, WebhookStore } from './types.js';

/**
 * The durable store: an append-only JSON-lines file (record.ts) plus an in-memory index; bodies are read
 * back from the file when dumped. Its parts: file-ops.ts (the platform's file operations), repair.ts (replay
 * and repair on open), batch-writer.ts (group commit and rollback), file-reader.ts (bodies read back).
 */

export { fileOpsFor, nodeFileOps, syncDirectory, type StoreFileHandle, type StoreFileOps } from './file-ops.js';
export type { RepairReport } from './repair.js';

export const DATA_FILE = 'webhooks.jsonl';

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
  let replayed: Replayed;
  try {
    replayed = await replayAndRepair(file, ops, { dir, path }, now);
  } catch (err) {
    await file.close().catch(() => undefined);
    await lock.release();
    throw err;
  }

  const state: FileState = { file, index: replayed.index, size: replayed.size, generation: 0, dirtyTail: false };
  const listeners = createListeners();
  const writer = createBatchWriter(state, { syncedWrites: ops.syncedWrites, maxBytes: options.maxBytes, listeners });
  const inFlight = new Map<string, Promise<AppendResult>>();
  let closed = false;

  function append(body: Buffer, meta: RecordMeta): Promise<AppendResult> {
    if (closed) return Promise.resolve({ status: 'error', message: 'the store is closed' });
    const valid = checkMeta(meta);
    if (!valid.ok) return Promise.resolve({ status: 'invalid', message: valid.message });
    const id = meta.messageId;
    if (id !== null) {
      const key = state.index.byMessageId.get(id);
      if (key !== undefined) return Promise.resolve({ status: 'duplicate', key });
      const first = inFlight.get(id);
      if (first !== undefined) {
        // A retry racing its original: answer with the original's key, or try again if the original failed.
        return first.then((r) =>
          r.status === 'stored' || r.status === 'duplicate' ? { status: 'duplicate', key: r.key } : append(body, meta),
        );
      }
    }
    const promise = new Promise<AppendResult>((resolvePromise) => {
      writer.enqueue({ body, meta, receivedAtMs: now(), resolve: resolvePromise });
    });
    if (id !== null) {
      inFlight.set(id, promise);
      void promise.then(() => {
        if (inFlight.get(id) === promise) inFlight.delete(id);
      });
    }
    return promise;
  }

  return Object.assign(storeFigures(state, options.maxBytes), {
    kind: 'file' as const,
    location: path,
    repair: replayed.repair,
    append,
    records: (filter = {}, readOptions = {}) => readRecords(state, filter, readOptions),
    clear: () =>
      writer.exclusive(async () => {
        await file.truncate(0);
        await file.datasync();
        resetState(state);
        state.dirtyTail = false;
        listeners.cleared();
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      await writer.flush();
      await writer.exclusive(() => file.close());
      await lock.release();
    },
    subscribe: listeners.subscribe,
  } satisfies Omit<FileStore, 'count' | 'bytes' | 'maxBytes' | 'lastKey'>);
}
