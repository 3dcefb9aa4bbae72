import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Agent } from 'node:http';
import { nodeFileOps, type StoreFileHandle, type StoreFileOps } from '../../sink/store/file-store.js';
import { startTestSink, tempDir, type TestSink } from '../sink/sink-support.js';
import { checkDump, fetchEnvelopeDump, postWebhook, prng, webhookBody, type Sent } from './support.js';

// Faults in the storage layer, end to end over HTTP: the sink's real file store over the real file system,
// with one operation made to fail on demand through the store's injectable file operations. Whatever fails,
// the request gets 500 or 507, no key is consumed, nothing stored before is lost, and the sink serves again
// as soon as the fault clears. (The store's own rollback is unit-tested in test/sink/file-store.test.ts.)

type Fault = { op: 'write'; code: string; tornWrite?: boolean; landed?: boolean } | null;

const errno = (code: string) => Object.assign(new Error(`${code}: simulated fault`), { code });

/**
 * Node's file operations, with the current fault applied to writes. On Linux the store's file is opened
 * O_DSYNC, so a write is also its sync: a failed sync is a write whose bytes landed in the file and then
 * failed to reach the disk.
 */
function faultyOps(current: () => Fault): StoreFileOps {
  return {
    ...nodeFileOps,
    async open(path) {
      const real = await nodeFileOps.open(path);
      const handle: StoreFileHandle = {
        read: (b, o, l, p) => real.read(b, o, l, p),
        async write(buffer, offset, length, position) {
          const f = current();
          if (f?.op === 'write') {
            // A torn write: part of the batch reaches the file before the device gives up.
            if (f.tornWrite && length > 1) await real.write(buffer, offset, Math.floor(length / 2), position);
            if (f.landed) await real.write(buffer, offset, length, position);
            throw errno(f.code);
          }
          return real.write(buffer, offset, length, position);
        },
        datasync: () => real.datasync(),
        truncate: (n) => real.truncate(n),
        stat: () => real.stat(),
        close: () => real.close(),
      };
      return handle;
    },
  };
}

const FAULTS: { name: string; fault: NonNullable<Fault>; status: number }[] = [
  { name: 'a failing write (EIO)', fault: { op: 'write', code: 'EIO' }, status: 500 },
  { name: 'a torn write (half written, then EIO)', fault: { op: 'write', code: 'EIO', tornWrite: true }, status: 500 },
  { name: 'a failing sync (written, then EIO)', fault: { op: 'write', code: 'EIO', landed: true }, status: 500 },
  { name: 'a full disk on write (ENOSPC)', fault: { op: 'write', code: 'ENOSPC', tornWrite: true }, status: 507 },
  {
    name: 'a full disk on sync (written, then ENOSPC)',
    fault: { op: 'write', code: 'ENOSPC', landed: true },
    status: 507,
  },
  { name: 'a quota exceeded (EDQUOT)', fault: { op: 'write', code: 'EDQUOT' }, status: 507 },
];

const agent = new Agent({ keepAlive: true });
afterAll(() => agent.destroy());

let data: Awaited<ReturnType<typeof tempDir>>;
let fault: Fault = null;
let sink: TestSink;
const ledger = new Map<string, { body: string; key: number | null }>();
const rand = prng(9);

beforeEach(async () => {
  data = await tempDir();
  fault = null;
  ledger.clear();
  sink = await startTestSink({ dataDir: data.dir }, { fileOps: faultyOps(() => fault) });
});
afterEach(async () => {
  await sink.close();
  await data.remove();
});

async function storeOk(sent: Sent, expectedKey: number): Promise<void> {
  const outcome = await postWebhook(agent, sink.url, sent.body);
  expect(outcome).toEqual({ kind: 'stored', key: expectedKey });
  ledger.set(sent.id, { body: sent.body, key: expectedKey });
}

describe.each(FAULTS)('$name', ({ fault: injected, status }) => {
  it(`answers ${status}, consumes no key, loses nothing, and serves again once the fault clears`, async () => {
    for (let k = 1; k <= 3; k++) await storeOk(webhookBody('before', rand), k);

    fault = injected;
    // Concurrent requests fail together, in one batch or several.
    const failed = Array.from({ length: 5 }, () => webhookBody('during', rand));
    const outcomes = await Promise.all(failed.map((s) => postWebhook(agent, sink.url, s.body)));
    for (const o of outcomes) {
      expect(o).toMatchObject({ kind: 'status', status });
      // A clear answer, in the sink's error shape, naming no file, path or errno.
      if (o.kind === 'status')
        expect(o.text).toMatch(
          status === 507
            ? /^\{"code": 507, "msg": "store is full"\}\n$/
            : /^\{"code": 500, "msg": "could not store the webhook"\}\n$/,
        );
    }
    for (const s of failed) ledger.set(s.id, { body: s.body, key: null });
    // Reading still works while writes fail, and shows exactly what was there before.
    let records = await fetchEnvelopeDump(sink.url);
    expect(records.map((r) => r.key)).toEqual([1, 2, 3]);
    expect(checkDump(records, ledger)).toEqual([]);
    expect(sink.store.lastKey).toBe(3);

    fault = null;
    // No key was consumed: the next webhook gets 4, and a retry of a rejected one is stored, not "already stored".
    await storeOk(webhookBody('after', rand), 4);
    await storeOk(failed[0]!, 5);
    records = await fetchEnvelopeDump(sink.url);
    expect(records.map((r) => r.key)).toEqual([1, 2, 3, 4, 5]);
    expect(checkDump(records, ledger)).toEqual([]);

    // And on disk: reopened, the file holds exactly these records, with nothing torn left to repair.
    await sink.close();
    sink = await startTestSink({ dataDir: data.dir });
    expect(sink.lines.join('\n')).not.toMatch(/repaired/);
    expect(sink.warnings).toEqual([]);
    expect(checkDump(await fetchEnvelopeDump(sink.url), ledger)).toEqual([]);
    expect(sink.store.lastKey).toBe(5);
  });
});

it('keeps serving through a fault that comes and goes under concurrent load', async () => {
  let next = 0;
  const results: { sent: Sent; outcome: Awaited<ReturnType<typeof postWebhook>> }[] = [];
  const worker = async (i: number) => {
    for (let n = 0; n < 15; n++) {
      next += 1;
      // Every fourth round of requests meets a failing sync.
      fault = Math.floor(next / 10) % 4 === 3 ? { op: 'write', code: 'EIO', landed: true } : null;
      const sent = webhookBody(`mix${i}`, rand);
      results.push({ sent, outcome: await postWebhook(agent, sink.url, sent.body) });
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, i) => worker(i)));
  fault = null;
  for (const { sent, outcome } of results) {
    if (outcome.kind === 'stored') ledger.set(sent.id, { body: sent.body, key: outcome.key });
    else {
      expect(outcome).toMatchObject({ kind: 'status', status: 500 });
      ledger.set(sent.id, { body: sent.body, key: null });
    }
  }
  const stored = results.filter((r) => r.outcome.kind === 'stored').length;
  expect(stored).toBeGreaterThan(0);
  expect(stored).toBeLessThan(results.length);
  const records = await fetchEnvelopeDump(sink.url);
  // Rejected requests left nothing behind: exactly the acknowledged ones, keys 1..n.
  expect(records).toHaveLength(stored);
  expect(checkDump(records, ledger)).toEqual([]);
});
