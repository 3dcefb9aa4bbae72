import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LOCK_FILE } from '../../sink/store/data-lock.js';
import { DATA_FILE, fileOpsFor, nodeFileOps, openFileStore, syncDirectory, type StoreFileHandle, type StoreFileOps } from '../../sink/store/file-store.js';
import { createMemoryStore } from '../../sink/store/memory-store.js';
import { encodeRecord } from '../../sink/store/record.js';
import type { RecordFilter, RecordMeta, StoredRecord, WebhookStore } from '../../sink/store/types.js';
import { tempDir } from './sink-support.js';

const meta = (i: number, over: Partial<RecordMeta> = {}): RecordMeta => ({
  messageId: `m-${i}`,
  event: i % 2 === 0 ? 'order.status' : 'job.status',
  status: i % 3 === 0 ? 'FAILED_PERMANENTLY' : 'SUCCEEDED',
  liveMode: i % 4 !== 0,
  ...over,
});
const body = (i: number) => Buffer.from(`{"n":${i},"text":"webhook number ${i}"}`);

async function all(store: WebhookStore, filter?: RecordFilter): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for await (const r of store.records(filter)) out.push(r);
  return out;
}

/**
 * Wraps the real file operations (this platform's, or `base`); each fault fires once, on the next matching
 * call. `events` lists the writes and syncs in order.
 */
function faultyOps(base: StoreFileOps = nodeFileOps) {
  const faults: { write: Error | 'partial' | 'landed' | null; datasync: Error | null; truncate: Error | null } = { write: null, datasync: null, truncate: null };
  const calls = { write: 0, truncate: 0 };
  const events: string[] = [];
  const ops: StoreFileOps = {
    syncedWrites: base.syncedWrites,
    async writeNewFile(p, data) {
      await base.writeNewFile(p, data);
      events.push(`writeNewFile ${path.basename(p).replace(/-[^.]*$/, '')}`);
    },
    async syncDirectory(dir) {
      await base.syncDirectory(dir);
      events.push('syncDirectory');
    },
    async open(p) {
      const real = await base.open(p);
      const handle: StoreFileHandle = {
        read: (b, o, l, pos) => real.read(b, o, l, pos),
        async write(b, o, l, pos) {
          calls.write += 1;
          events.push('write');
          const fault = faults.write;
          faults.write = null;
          if (fault === 'partial') {
            // Half the bytes reach the file, then the disk fails: the worst case for a torn record.
            await real.write(b, o, Math.max(1, Math.floor(l / 2)), pos);
            throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
          }
          if (fault === 'landed') {
            // Every byte reaches the file, but the device fails to make them durable (O_DSYNC reports it here).
            await real.write(b, o, l, pos);
            throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
          }
          if (fault) throw fault;
          return real.write(b, o, l, pos);
        },
        async datasync() {
          events.push('datasync');
          const fault = faults.datasync;
          faults.datasync = null;
          if (fault) throw fault;
          return real.datasync();
        },
        async truncate(len) {
          calls.truncate += 1;
          events.push('truncate');
          const fault = faults.truncate;
          faults.truncate = null;
          if (fault) throw fault;
          return real.truncate(len);
        },
        stat: () => real.stat(),
        close: () => real.close(),
      };
      return handle;
    },
  };
  return { ops, faults, calls, events };
}

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.remove();
});

const kinds: [string, (maxBytes?: number) => Promise<WebhookStore>][] = [
  ['file', (maxBytes = 1 << 30) => openFileStore({ dataDir: tmp.dir, maxBytes })],
  ['memory', async (maxBytes = 1 << 30) => createMemoryStore({ maxBytes })],
];

describe.each(kinds)('%s store', (_kind, open) => {
  it('gives consecutive keys from 1 and returns bodies byte for byte, in both orders', async () => {
    const store = await open();
    const bodies = [body(1), Buffer.from('{\n  "pretty": true\n}\n'), Buffer.from('[1, 2.50]'), Buffer.from('"s"')];
    const results = await Promise.all(bodies.map((b, i) => store.append(b, meta(i + 1))));
    expect(results).toEqual([1, 2, 3, 4].map((key) => ({ status: 'stored', key })));
    expect(store.count).toBe(4);
    expect(store.lastKey).toBe(4);
    const asc = await all(store);
    expect(asc.map((r) => r.key)).toEqual([1, 2, 3, 4]);
    asc.forEach((r, i) => expect(r.body.equals(bodies[i]!)).toBe(true));
    expect(asc[0]).toMatchObject({ messageId: 'm-1', event: 'job.status', status: 'SUCCEEDED', liveMode: true });
    expect(Number.isNaN(Date.parse(asc[0]!.receivedAt))).toBe(false);
    expect((await all(store, { order: 'desc' })).map((r) => r.key)).toEqual([4, 3, 2, 1]);
    await store.close();
  });

  it('filters by event, status (normalised), liveMode, since, before, q and limit', async () => {
    const store = await open();
    for (let i = 1; i <= 24; i++) await store.append(body(i), meta(i));
    const keys = async (f: RecordFilter) => (await all(store, f)).map((r) => r.key);
    const expected = (pred: (i: number) => boolean) => Array.from({ length: 24 }, (_, i) => i + 1).filter(pred);
    expect(await keys({ event: 'order.status' })).toEqual(expected((i) => i % 2 === 0));
    expect(await keys({ status: 'failed permanently' })).toEqual(expected((i) => i % 3 === 0));
    expect(await keys({ liveMode: false })).toEqual(expected((i) => i % 4 === 0));
    expect(await keys({ since: 20 })).toEqual([21, 22, 23, 24]);
    expect(await keys({ before: 4 })).toEqual([1, 2, 3]);
    expect(await keys({ order: 'desc', before: 10, limit: 3 })).toEqual([9, 8, 7]);
    expect(await keys({ event: 'order.status', liveMode: true, since: 4, limit: 2 })).toEqual([6, 10]);
    expect(await keys({ q: 'NUMBER 1' })).toEqual(expected((i) => String(i).startsWith('1')));
    expect(await keys({ q: 'number 2', limit: 1, order: 'desc' })).toEqual([24]);
    expect(await keys({ limit: 0 })).toEqual([]);
    expect(await keys({ event: 'nothing' })).toEqual([]);
    await store.close();
  });

  it('stores a messageId once, also when the same delivery races itself', async () => {
    const store = await open();
    expect(await store.append(body(1), meta(1))).toEqual({ status: 'stored', key: 1 });
    expect(await store.append(body(99), meta(1))).toEqual({ status: 'duplicate', key: 1 });
    const racing = await Promise.all(Array.from({ length: 5 }, () => store.append(body(2), meta(2))));
    expect(racing.filter((r) => r.status === 'stored')).toEqual([{ status: 'stored', key: 2 }]);
    expect(racing.filter((r) => r.status === 'duplicate')).toHaveLength(4);
    for (const r of racing) expect(r).toMatchObject({ key: 2 });
    // Bodies without a messageId are never deduplicated.
    const none = { ...meta(3), messageId: null };
    expect(await store.append(body(3), none)).toEqual({ status: 'stored', key: 3 });
    expect(await store.append(body(3), none)).toEqual({ status: 'stored', key: 4 });
    expect(store.count).toBe(4);
    await store.close();
  });

  it('answers full past its capacity and keeps everything it has', async () => {
    const fixed = (i: number) => meta(1, { messageId: `m-${i}` });
    const size = (i: number, b: Buffer) => encodeRecord(i, Date.now(), fixed(i), b).line.length;
    const small = Buffer.from('1');
    const big = Buffer.from(`{"pad":"${'x'.repeat(200)}"}`);
    const store = await open(size(1, body(1)) + size(2, body(2)) + size(3, body(3)) + size(4, small));
    for (let i = 1; i <= 3; i++) expect(await store.append(body(i), fixed(i))).toEqual({ status: 'stored', key: i });
    expect(await store.append(big, fixed(4))).toEqual({ status: 'full' });
    expect(await store.append(small, fixed(4))).toEqual({ status: 'stored', key: 4 });
    expect(await store.append(small, fixed(5))).toEqual({ status: 'full' });
    expect(store.bytes).toBe(store.maxBytes);
    expect(store.bytes).toBeLessThanOrEqual(store.maxBytes);
    expect((await all(store)).map((r) => r.key)).toEqual([1, 2, 3, 4]);
    await store.close();
  });

  it('clears: keys start again at 1, listeners hear it, a dump in progress stops', async () => {
    const store = await open();
    for (let i = 1; i <= 5; i++) await store.append(body(i), meta(i));
    let cleared = 0;
    const seen: number[] = [];
    const unsubscribe = store.subscribe((r) => seen.push(r.key), () => (cleared += 1));
    const iterator = store.records()[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ key: 1 });
    await store.clear();
    expect((await iterator.next()).done).toBe(true);
    expect(cleared).toBe(1);
    expect(store.count).toBe(0);
    expect(store.bytes).toBe(0);
    expect(await store.append(body(1), meta(1))).toEqual({ status: 'stored', key: 1 });
    expect(seen).toEqual([1]);
    unsubscribe();
    await store.append(body(2), meta(2));
    expect(seen).toEqual([1]);
    await store.close();
  });

  it('gets every body across read windows: kept by a reader, or copied by a transient one before the next', async () => {
    const store = await open();
    // Bodies from a few bytes to past the file store's 256 KiB read window, so windows are refilled, reused
    // and outgrown, in both orders.
    const sizes = [40, 300 * 1024, 90, 70 * 1024, ...Array.from({ length: 300 }, (_, i) => 200 + ((i * 977) % 3000)), 260 * 1024, 12];
    const bodies = sizes.map((n, i) => Buffer.from(JSON.stringify({ i, pad: String.fromCharCode(97 + (i % 26)).repeat(n) })));
    for (const [i, b] of bodies.entries()) expect(await store.append(b, meta(i + 1))).toEqual({ status: 'stored', key: i + 1 });
    for (const order of ['asc', 'desc'] as const) {
      const copied: { key: number; body: Buffer }[] = [];
      for await (const r of store.records({ order }, { transient: true })) copied.push({ key: r.key, body: Buffer.from(r.body) });
      const expected = bodies.map((b, i) => ({ key: i + 1, body: b }));
      if (order === 'desc') expected.reverse();
      expect(copied.map((r) => r.key)).toEqual(expected.map((r) => r.key));
      copied.forEach((r, i) => expect(r.body.equals(expected[i]!.body)).toBe(true));
      // A reader that is not transient may keep the bodies it was given: they stay as they were.
      const kept = await all(store, { order });
      kept.forEach((r, i) => expect(r.body.equals(expected[i]!.body)).toBe(true));
    }
    await store.close();
  });

  it('tells subscribers about each stored record, with its envelope fields', async () => {
    const store = await open();
    const seen: StoredRecord[] = [];
    store.subscribe((r) => seen.push(r));
    await store.append(body(1), meta(1));
    await store.append(body(1), meta(1)); // duplicate: not a new record
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ key: 1, messageId: 'm-1', event: 'job.status', status: 'SUCCEEDED', liveMode: true });
    expect(seen[0]!.body.equals(body(1))).toBe(true);
    await store.close();
    expect(await store.append(body(2), meta(2))).toMatchObject({ status: 'error' });
  });
});

describe('file store on disk', () => {
  const dataFile = () => path.join(tmp.dir, DATA_FILE);
  const lockFile = () => path.join(tmp.dir, LOCK_FILE);

  it('holds its data directory while open, and lets go on close (another process is refused: data-lock.test.ts)', async () => {
    // A pid file of earlier versions naming a live process (this one's parent) is no lock: it never blocks.
    await writeFile(lockFile(), `${process.ppid}\n`);
    const store = await openFileStore({ dataDir: tmp.dir, maxBytes: 1 << 30 });
    expect(await readFile(lockFile(), 'utf8')).toBe(`${process.pid}\n`);
    await store.close();
    expect(await readFile(lockFile(), 'utf8')).toBe(''); // no pid left behind to be taken for a holder
  });

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
    expect((await readdir(tmp.dir)).sort()).toEqual([DATA_FILE, LOCK_FILE, path.basename(store.repair!.savedTo!)].sort());
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
    expect(events).toEqual(['syncDirectory', `writeNewFile ${DATA_FILE}.damaged`, 'syncDirectory', 'truncate', 'datasync']);
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
    expect(results.map((r) => (r.status === 'stored' ? r.key : -1)).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
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
    const synced = await openFileStore({ dataDir: path.join(tmp.dir, 'o_dsync'), maxBytes: 1 << 30, fileOps: linux.ops });
    linux.events.length = 0;
    expect(await synced.append(body(1), meta(1))).toEqual({ status: 'stored', key: 1 });
    expect(linux.events).toEqual(['write']);
    await Promise.all([store.close(), synced.close()]);
  });

  it.each([
    ['a write that fails half way', 'write' as const, 'partial' as const, nodeFileOps],
    ['a failing write', 'write' as const, Object.assign(new Error('EIO'), { code: 'EIO' }), nodeFileOps],
    ['a write whose bytes reach the file but not the disk', 'write' as const, 'landed' as const, nodeFileOps],
    ['a failing fdatasync after a complete write (macOS, Windows)', 'datasync' as const, Object.assign(new Error('EIO'), { code: 'EIO' }), fileOpsFor('darwin')],
  ])('%s: the whole batch answers error, no key is consumed, nothing stays in the file', async (_name, where, fault, base) => {
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
    expect(await store.append(Buffer.from(`{"long":"${'x'.repeat(500)}"}`), meta(2))).toMatchObject({ status: 'error' });
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
