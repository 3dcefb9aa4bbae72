/**
 * A process that only takes data-directory locks and reports, for data-lock.test.ts (bundled there and run with
 * plain node, so that a hundred races stay cheap).
 * - `lock-holder now <dir>`: takes the lock at once, prints one `locked <pid>` or `refused <message>` line, and
 *   holds the lock until killed.
 * - `lock-holder serve`: prints `ready`, then obeys stdin lines: `take <dir>` (prints `locked <pid>` or
 *   `refused <message>`), `release` (lets go of what it holds, prints `released`). When stdin ends it lets go
 *   and exits: 0 if its last take succeeded, 1 if it was refused.
 */
import { createInterface } from 'node:readline';
import { lockDataDir, type DataLock } from '../../sink/store/data-lock.js';

async function take(dir: string): Promise<DataLock | null> {
  try {
    const lock = await lockDataDir(dir);
    process.stdout.write(`locked ${process.pid}\n`);
    return lock;
  } catch (err) {
    process.stdout.write(`refused ${(err as Error).message}\n`);
    return null;
  }
}

const [mode, dir] = process.argv.slice(2);
if (mode === 'now') {
  if ((await take(dir!)) === null) process.exit(1);
  setInterval(() => {}, 1 << 30); // held until the process is killed
} else {
  let held: DataLock | null = null;
  let refused = false;
  // One command at a time, in order.
  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    queue = queue.then(async () => {
      if (line.startsWith('take ')) {
        held = await take(line.slice('take '.length));
        refused = held === null;
      } else if (line === 'release') {
        await held?.release();
        held = null;
        process.stdout.write('released\n');
      }
    });
  });
  lines.on('close', () => {
    void queue.then(async () => {
      await held?.release();
      process.exit(refused ? 1 : 0);
    });
  });
  process.stdout.write('ready\n');
}
