import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LOCK_FILE } from '../../sink/store/data-lock.js';
import {
  DATA_FILE,
  fileOpsFor,
  nodeFileOps,
  openFileStore,
  syncDirectory,
  type StoreFileOps,
} from '../../sink/store/file-store.js';
import { encodeRecord } from '../../sink/store/record.js';
import { faultyOps } from './faulty-file-ops.js';
import { tempDir } from './sink-support.js';
import { all, body, meta } from './store-contract.js';

// What only the file store does: its data directory, replay and repair on open, the platform's syncs, group
// commit and rollback under injected faults. What every store does is in store-contract.ts.

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.remove();
});

describe('file store on disk', () => {
  const dataFile = () => path.join(tmp.dir, DATA_FILE);
  const lockFile = () => path.join(tmp.dir, LOCK_FILE);

  it(
    'holds its data directory while open, ' + 'and lets go on close (another process is refused: data-lock.test.ts)',
    async () => {
      // A pid file of earlier versions naming a live process (this one's parent) is no lock: it never blocks.
      await writeFile(lockFile(), `${process.ppid}\n`);
      const store = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30 });
      expect(await readFile(lockFile(), 'utf8')).toBe(`${process.pid}\n`);
      await store.close();
      expect(await readFile(lockFile(), 'utf8')).toBe(''); // no pid left behind to be taken for a holder
    },
  );

  it('takes over the lock of a sink that is gone (killed without closing)', async () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await writeFile(lockFile(), `${gone.stdout}\n`);
    const store = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30 });
    expect(await readFile(lockFile(), 'utf8')).toBe(`${process.pid}\n`);
    expect(await store.append(body(1), meta(1))).toEqual({ status: 'stored', key: 1 });
    await store.close();
  });

  it('replays its file on open: same records, keys continue after the last one', async () => {
    const a = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30 });
    for (let i = 1; i <= 50; i++) await a.append(body(i), meta(i));
    const before = await all(a);
    await a.close();
    const b = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30 });
    expect(b.repair).toBeNull();
    expect(await all(b)).toEqual(before);
    expect(b.bytes).toBe((await stat(dataFile())).size);
    expect(await b.append(body(51), meta(51))).toEqual({ status: 'stored', key: 51 });
    expect(await b.append(body(7), meta(7))).toEqual({ status: 'duplicate', key: 7 });
    await b.close();
  });

  it('cuts a torn last record on open and continues the keys after the last good one', async () => {
    const a = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30 });
    for (let i = 1; i <= 3; i++) await a.append(body(i), meta(i));
    await a.close();
    const goodSize = (await stat(dataFile())).size;
    const torn = encodeRecord(4, Date.now(), meta(4), body(4)).line.subarray(0, 40);
    await appendFile(dataFile(), torn);
    const b = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30 });
    expect(b.repair).toEqual({ droppedBytes: torn.length, strandedRecords: 0, savedTo: null });
    expect((await stat(dataFile())).size).toBe(goodSize);
    expect(await b.append(body(4), meta(4))).toEqual({ status: 'stored', key: 4 });
    expect((await all(b)).map((r) => r.key)).toEqual([1, 2, 3, 4]);
    await b.close();
  });

  it('saves intact records found after damage in the middle instead of dropping them silently', async () => {
    const lines = [1, 2, 3, 4].map((i) => encodeRecord(i, Date.now(), meta(i), body(i)).line);
    const damaged = Buffer.from(lines[1]!);
    damaged.fill(0x20, 50, 60);
    await writeFile(dataFile(), Buffer.concat([lines[0]!, damaged, lines[2]!, lines[3]!]));
    const store = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30 });
    expect(store.count).toBe(1);
    expect(store.repair).toMatchObject({ strandedRecords: 2 });
    const saved = await readFile(store.repair!.savedTo!);
    expect(saved.equals(Buffer.concat([damaged, lines[2]!, lines[3]!]))).toBe(true);
    const savedName = path.basename(store.repair!.savedTo!);
    expect((await readdir(tmp.dir)).sort()).toEqual([DATA_FILE, LOCK_FILE, savedName].sort());
    await store.close();
  });

  it('makes the saved records and their name durable before it cuts them from the data file', async () => {
    const lines = [1, 2, 3].map((i) => encodeRecord(i, Date.now(), meta(i), body(i)).line);
    const damaged = Buffer.from(lines[1]!);
    damaged.fill(0x20, 50, 60);
    await writeFile(dataFile(), Buffer.concat([lines[0]!, damaged, lines[2]!]));
    const { ops, events } = faultyOps();
    const store = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30, fileOps: ops });
    expect(store.repair).toMatchObject({ strandedRecords: 1 });
    // The data file's own name first (it may have just been created), then the copy, then the cut.
    const copyThenCut = [`writeNewFile ${DATA_FILE}.damaged`, 'syncDirectory', 'truncate', 'datasync'];
    expect(events).toEqual(['syncDirectory', ...copyThenCut]);
    await store.close();
  });

  it('makes the name of a new data file durable before it acknowledges anything', async () => {
    const { ops, events } = faultyOps();
    const store = await openFileStore({ dataDir: path.join(tmp.dir, 'new'), maxBytes: 1 << 30, fileOps: ops });
    expect(await store.append(body(1), meta(1))).toEqual({ status: 'stored', key: 1 });
    expect(events[0]).toBe('syncDirectory');
    expect(events).toContain('write');
    await store.close();
  });

  it('syncs a directory where it can, and lets a file system that cannot do it say so without failing', async () => {
    await syncDirectory(tmp.dir, process.platform); // the real thing, here
    const calls: string[] = [];
    const failingWith = (code: string) => async (dir: string) => {
      calls.push(dir);
      return {
        sync: () => Promise.reject(Object.assign(new Error(`${code}: sync`), { code })),
        close: async () => undefined,
      };
    };
    await expect(syncDirectory('/data', 'linux', failingWith('EINVAL'))).resolves.toBeUndefined();
    await expect(syncDirectory('/data', 'darwin', failingWith('ENOTSUP'))).resolves.toBeUndefined();
    await expect(syncDirectory('/data', 'linux', failingWith('EIO'))).rejects.toMatchObject({ code: 'EIO' });
    await expect(syncDirectory('C:\\data', 'win32', failingWith('EIO'))).resolves.toBeUndefined();
    expect(calls).toEqual(['/data', '/data', '/data']);
  });

  it('groups concurrent appends into few durable writes', async () => {
    const { ops, calls } = faultyOps();
    const store = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30, fileOps: ops });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => store.append(body(i + 1), meta(i + 1))));
    const keys = results.map((r) => (r.status === 'stored' ? r.key : -1)).sort((x, y) => x - y);
    expect(keys).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(calls.write).toBeGreaterThanOrEqual(1);
    expect(calls.write).toBeLessThanOrEqual(5);
    await store.close();
  });

  /** Whether `ops` opens the data file O_DSYNC: Linux shows an open file's flags, in octal, in /proc/self/fdinfo. */
  async function opensDsync(ops: StoreFileOps): Promise<boolean> {
    const handle = (await ops.open(dataFile())) as unknown as { fd: number; close(): Promise<void> };
    try {
      const info = await readFile(`/proc/self/fdinfo/${handle.fd}`, 'utf8');
      const flags = parseInt(/^flags:\s+([0-7]+)$/m.exec(info)![1]!, 8);
      return (flags & 0o10000) === 0o10000; // O_DSYNC
    } finally {
      await handle.close();
    }
  }

  // The flags are read from /proc: Linux only (CI runs there).
  const onLinux = process.platform === 'linux' ? it : it.skip;

  onLinux('on Linux opens its file O_DSYNC, so that a write resolves only once its bytes are on disk', async () => {
    expect(nodeFileOps.syncedWrites).toBe(true);
    expect(await opensDsync(nodeFileOps)).toBe(true);
  });

  onLinux('elsewhere opens it without O_DSYNC: weaker on macOS, missing on Windows', async () => {
    for (const ops of [fileOpsFor('darwin'), fileOpsFor('win32'), fileOpsFor('linux', {})]) {
      expect(ops.syncedWrites).toBe(false);
      expect(await opensDsync(ops)).toBe(false);
    }
  });

  it('follows each write with fdatasync before answering where the write is not synced by itself', async () => {
    const { ops, events } = faultyOps(fileOpsFor('darwin'));
    const store = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30, fileOps: ops });
    events.length = 0;
    const answered = store.append(body(1), meta(1)).then((r) => {
      events.push('answered');
      return r;
    });
    expect(await answered).toEqual({ status: 'stored', key: 1 });
    expect(events).toEqual(['write', 'datasync', 'answered']);
    // With O_DSYNC the write is its own sync: no fdatasync follows it.
    const linux = faultyOps(fileOpsFor('linux'));
    const dataDir = path.join(tmp.dir, 'o_dsync');
    const synced = await openFileStore({ dataDir, maxBytes: 1 << 30, fileOps: linux.ops });
    linux.events.length = 0;
    expect(await synced.append(body(1), meta(1))).toEqual({ status: 'stored', key: 1 });
    expect(linux.events).toEqual(['write']);
    await Promise.all([store.close(), synced.close()]);
  });

  it.each([
    ['a write that fails half way', 'write' as const, 'partial' as const, nodeFileOps],
    ['a failing write', 'write' as const, Object.assign(new Error('EIO'), { code: 'EIO' }), nodeFileOps],
    ['a write whose bytes reach the file but not the disk', 'write' as const, 'landed' as const, nodeFileOps],
    [
      'a failing fdatasync after a complete write (macOS, Windows)',
      'datasync' as const,
      Object.assign(new Error('EIO'), { code: 'EIO' }),
      fileOpsFor('darwin'),
    ],
  ])('%s: the batch answers error, consumes no key, leaves nothing in the file', async (_n, where, fault, base) => {
    const { ops, faults } = faultyOps(base);
    const store = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30, fileOps: ops });
    await store.append(body(1), meta(1));
    const sizeBefore = (await stat(dataFile())).size;
    (faults as Record<string, unknown>)[where] = fault;
    const seen: number[] = [];
    store.subscribe((r) => seen.push(r.key));
    const batch = await Promise.all([2, 3, 4].map((i) => store.append(body(i), meta(i))));
    for (const r of batch) expect(r).toMatchObject({ status: 'error' });
    expect(seen).toEqual([]);
    expect(store.count).toBe(1);
    expect((await stat(dataFile())).size).toBe(sizeBefore);
    // The fault cleared: the same deliveries, retried, get the keys the failed batch did not consume.
    const retried = await Promise.all([2, 3, 4].map((i) => store.append(body(i), meta(i))));
    expect(retried).toEqual([2, 3, 4].map((key) => ({ status: 'stored', key })));
    await store.close();
    const reopened = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30 });
    expect(reopened.repair).toBeNull();
    expect((await all(reopened)).map((r) => r.body.toString())).toEqual([1, 2, 3, 4].map((i) => body(i).toString()));
    await reopened.close();
  });

  it('a full disk (ENOSPC) answers full, consumes no key, and the store serves again once space is back', async () => {
    const { ops, faults } = faultyOps();
    const store = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30, fileOps: ops });
    faults.write = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(await store.append(body(1), meta(1))).toEqual({ status: 'full' });
    expect(store.count).toBe(0);
    expect(await store.append(body(1), meta(1))).toEqual({ status: 'stored', key: 1 });
    await store.close();
  });

  it('when even the rollback truncate fails, the next batch cuts the leftovers first', async () => {
    const { ops, faults } = faultyOps();
    const store = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30, fileOps: ops });
    await store.append(body(1), meta(1));
    faults.write = 'landed';
    faults.truncate = new Error('EIO');
    const long = Buffer.from(`{"long":"${'x'.repeat(500)}"}`);
    expect(await store.append(long, meta(2))).toMatchObject({ status: 'error' });
    expect(await store.append(body(3), meta(3))).toEqual({ status: 'stored', key: 2 });
    await store.close();
    expect((await stat(dataFile())).size).toBe(store.bytes);
    const reopened = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30 });
    expect(reopened.repair).toBeNull();
    expect(reopened.count).toBe(2);
    await reopened.close();
  });

  it('a retry racing a failed original is stored by itself', async () => {
    const { ops, faults } = faultyOps();
    const store = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30, fileOps: ops });
    faults.write = 'landed';
    const [first, retry] = await Promise.all([store.append(body(1), meta(1)), store.append(body(1), meta(1))]);
    expect(first).toMatchObject({ status: 'error' });
    expect(retry).toEqual({ status: 'stored', key: 1 });
    await store.close();
  });
});
