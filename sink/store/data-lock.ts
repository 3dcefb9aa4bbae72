import { promises as fsp } from 'node:fs';

/**
 * One sink per data directory. Two sinks appending to one file would interleave their records, and a second
 * sink replaying the file while the first writes would take the first's record in progress for a torn tail
 * and cut it. The lock is a file holding the owner's pid, created exclusively; a lock whose process is gone
 * (a sink killed with SIGKILL) is taken over. The same process may take its own lock again: opening the
 * store twice in one process is how an in-process restart is simulated.
 */
export const LOCK_FILE = 'webhooks.lock';

export interface DataLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holderOf(path: string): Promise<number | null> {
  const text = await fsp.readFile(path, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

export async function lockDataDir(dir: string, lockPath = `${dir}/${LOCK_FILE}`): Promise<DataLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fsp.writeFile(lockPath, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return {
        release: async () => {
          if ((await holderOf(lockPath)) === process.pid) await fsp.rm(lockPath, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await holderOf(lockPath);
      if (holder !== null && holder !== process.pid && isAlive(holder)) {
        throw new Error(`the data directory ${dir} is in use by another sink (process ${holder}); stop it first, or set SINK_DATA_DIR to another folder`);
      }
      // Its owner is gone: take it over. Creation stays exclusive, so of two sinks doing this, one wins.
      await fsp.rm(lockPath, { force: true });
    }
  }
  throw new Error(`could not lock the data directory ${dir}`);
}
