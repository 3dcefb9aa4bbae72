import { closeSync, constants, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { flockSync } from 'fs-ext-extra-prebuilt';

/**
 * One sink per data directory. Two sinks appending to one file would interleave their records, and a second
 * sink replaying the file while the first writes would take the first's record in progress for a torn tail
 * and cut it.
 *
 * The lock is an advisory flock(2) on `webhooks.lock`. The kernel drops it when the holder's descriptor is
 * closed, which happens however the holder ends (exit, SIGKILL, a crash; a reboot starts with no locks), so
 * a lock never outlives its sink and no pid is ever guessed at: a zombie or a recycled pid cannot block a
 * start, and of two sinks racing for the lock the kernel lets exactly one have it. The file holds the
 * holder's pid only so that the refusal can name it; a pid file left by earlier versions is the same file,
 * taken and overwritten like any other. The file is never deleted: a newcomer could otherwise lock a fresh
 * file of the same name while the old one is still held.
 *
 * The same process may take its own lock again (opening the store twice in one process is how an in-process
 * restart is simulated): a flock belongs to one open file, so the process keeps one per directory and counts
 * its holders. Everything here is synchronous, so two opens in one process cannot race each other.
 */
export const LOCK_FILE = 'webhooks.lock';

export interface DataLock {
  release(): Promise<void>;
}

interface Held {
  fd: number;
  holders: number;
}

/** Lock file path -> the open, locked file this process holds. */
const held = new Map<string, Held>();

function holderOf(lockPath: string): number | null {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

function acquire(dir: string, lockPath: string): Held {
  const fd = openSync(lockPath, constants.O_RDWR | constants.O_CREAT, 0o600);
  try {
    flockSync(fd, 'exnb');
  } catch (err) {
    closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
      const holder = holderOf(lockPath);
      const who = holder === null ? '' : ` (process ${holder})`;
      const advice = 'stop it first, or set SINK_DATA_DIR to another folder';
      throw new Error(`the data directory ${dir} is in use by another sink${who}; ${advice}`, { cause: err });
    }
    // ENOLCK, EOPNOTSUPP: a file system without locks (some network mounts) cannot keep the promise.
    const why = code ?? (err as Error).message;
    throw new Error(`could not lock the data directory ${dir} (${why}); use a local folder for SINK_DATA_DIR`, {
      cause: err,
    });
  }
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch {
    // The pid is only for the message; the lock holds without it.
  }
  return { fd, holders: 0 };
}

export async function lockDataDir(dir: string, lockPath = join(dir, LOCK_FILE)): Promise<DataLock> {
  let lock = held.get(lockPath);
  if (lock === undefined) {
    lock = acquire(dir, lockPath);
    held.set(lockPath, lock);
  }
  const mine = lock;
  mine.holders += 1;
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      mine.holders -= 1;
      if (mine.holders > 0) return;
      held.delete(lockPath);
      try {
        // No pid left behind for anyone to read as a holder (a courtesy: the lock is what counts).
        ftruncateSync(mine.fd, 0);
      } catch {
        // keep going: closing is what lets go
      }
      closeSync(mine.fd); // drops the lock
    },
  };
}
