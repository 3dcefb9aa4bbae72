import { constants as fsConstants, promises as fsp } from 'node:fs';

/**
 * The platform file operations of the file store, as one injectable object: the store only ever touches its
 * file through these, so the fault tests can make any write, sync or truncate fail.
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

/** Writes all of `data` at `position`: a positional write may write less than asked. */
export async function writeFully(file: StoreFileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await file.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw new Error('the write made no progress');
    done += bytesWritten;
  }
}

/** Fills `buffer` from `position` on, or up to the end of the file: the bytes read. */
export async function readFully(file: StoreFileHandle, buffer: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await file.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
