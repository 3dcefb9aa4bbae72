import { afterEach, describe, expect, it } from '@jest/globals';
import { encodedLength } from '../../sink/store/record.js';
import type { AppendResult, RecordFilter, RecordMeta, StoredRecord, WebhookStore } from '../../sink/store/types.js';

/**
 * The contract every store keeps (sink/store/types.ts), as one suite run against each of them. A store joins
 * by calling describeStoreContract with a function that opens a new, empty store of its kind; the suite
 * closes what it opened.
 */

export interface ContractOptions {
  maxBytes: number;
}

export type OpenStore = (options: ContractOptions) => Promise<WebhookStore>;

export const meta = (i: number, over: Partial<RecordMeta> = {}): RecordMeta => ({
  messageId: `m-${i}`,
  event: i % 2 === 0 ? 'order.status' : 'job.status',
  status: i % 3 === 0 ? 'FAILED_PERMANENTLY' : 'SUCCEEDED',
  liveMode: i % 4 !== 0,
  ...over,
});

export const body = (i: number) => Buffer.from(`{"n":${i},"text":"webhook number ${i}"}`);

export async function all(store: WebhookStore, filter?: RecordFilter): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for await (const r of store.records(filter)) out.push(r);
  return out;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Bytes a record takes of a store's capacity: the file and memory stores count encoded lines. */
export type SizeOf = (key: number, meta: RecordMeta, body: Buffer) => number;
const encodedSize: SizeOf = (key, meta, body) => encodedLength(key, Date.now(), meta, body);

export function describeStoreContract(name: string, openStore: OpenStore, sizeOf: SizeOf = encodedSize): void {
  describe(`${name} store`, () => {
    const opened: WebhookStore[] = [];
    const open = async (maxBytes = 1 << 30) => {
      const store = await openStore({ maxBytes });
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('gives consecutive keys from 1 under concurrency, each to the body it was sent with', async () => {
      const store = await open();
      expect([store.count, store.lastKey, store.bytes]).toEqual([0, 0, 0]);
      const sent = range(1, 200);
      const results = await Promise.all(sent.map((i) => store.append(body(i), meta(i))));
      const keys = results.map((r) => (r.status === 'stored' ? r.key : -1));
      expect([...keys].sort((a, b) => a - b)).toEqual(range(1, 200));
      const byKey = new Map((await all(store)).map((r) => [r.key, r]));
      sent.forEach((i, n) => expect(byKey.get(keys[n]!)).toMatchObject({ messageId: `m-${i}`, body: body(i) }));
      // A second wave continues where the first ended.
      const more = await Promise.all(range(201, 250).map((i) => store.append(body(i), meta(i))));
      expect(more.map((r) => (r.status === 'stored' ? r.key : -1)).sort((a, b) => a - b)).toEqual(range(201, 250));
      expect([store.count, store.lastKey]).toEqual([250, 250]);
    });

    it('returns bodies byte for byte, in both orders, with their metadata', async () => {
      const store = await open();
      const bodies = [
        body(1),
        Buffer.from('{\n  "pretty": true\n}\n'),
        Buffer.from('{"crlf":\r\n"x"}'),
        Buffer.from('[1, 2.50, 1e3, -0]'),
        Buffer.from('"s"'),
        Buffer.from('{"u":"ünïcødé ☃ \\u00e9 \\"q\\" \\\\"}'),
        Buffer.from(`{"big":"${'x'.repeat(300 * 1024)}"}`),
      ];
      const results = await Promise.all(bodies.map((b, i) => store.append(b, meta(i + 1))));
      expect(results).toEqual(bodies.map((_, i) => ({ status: 'stored', key: i + 1 })));
      const asc = await all(store);
      expect(asc.map((r) => r.key)).toEqual(range(1, bodies.length));
      asc.forEach((r, i) => expect(r.body.equals(bodies[i]!)).toBe(true));
      expect(asc[0]).toMatchObject({ messageId: 'm-1', event: 'job.status', status: 'SUCCEEDED', liveMode: true });
      expect(asc[3]).toMatchObject({ messageId: 'm-4', event: 'order.status', liveMode: false });
      expect(new Date(asc[0]!.receivedAt).toISOString()).toBe(asc[0]!.receivedAt);
      const desc = await all(store, { order: 'desc' });
      expect(desc.map((r) => r.key)).toEqual(range(1, bodies.length).reverse());
      desc.forEach((r, i) => expect(r.body.equals(bodies[bodies.length - 1 - i]!)).toBe(true));
    });

    it('keeps null metadata as null', async () => {
      const store = await open();
      const none: RecordMeta = { messageId: null, event: null, status: null, liveMode: null };
      await store.append(body(1), none);
      expect(await all(store)).toEqual([expect.objectContaining({ key: 1, ...none })]);
      expect(await all(store, { liveMode: true })).toEqual([]);
      expect(await all(store, { liveMode: false })).toEqual([]);
    });

    it("keeps whether the sink verified UP42's signature and what it covered; not checked reads as null", async () => {
      const store = await open();
      const heard: StoredRecord[] = [];
      const unsubscribe = store.subscribe((r) => heard.push(r));
      const signed = ['content-type', 'date', 'content-digest'];
      await store.append(body(1), meta(1, { verified: true, signed }));
      await store.append(body(2), meta(2));
      unsubscribe();
      const records = await all(store);
      expect(records.map((r) => [r.key, r.verified ?? null, r.signed ?? null])).toEqual([
        [1, true, signed],
        [2, null, null],
      ]);
      expect(heard[0]).toMatchObject({ key: 1, verified: true, signed });
      // The filters still see the rest of the metadata.
      expect((await all(store, { liveMode: true, event: 'job.status' })).map((r) => r.key)).toEqual([1]);
    });

    it('filters by event, status (normalised), liveMode, since, before, q and limit, in both orders', async () => {
      const store = await open();
      for (let i = 1; i <= 24; i++) await store.append(body(i), meta(i));
      const keys = async (f: RecordFilter) => (await all(store, f)).map((r) => r.key);
      const expected = (pred: (i: number) => boolean) => range(1, 24).filter(pred);
      expect(await keys({})).toEqual(range(1, 24));
      expect(await keys({ event: 'order.status' })).toEqual(expected((i) => i % 2 === 0));
      expect(await keys({ status: 'failed permanently' })).toEqual(expected((i) => i % 3 === 0));
      const failed = expected((i) => i % 3 === 0);
      expect(await keys({ status: 'FAILED_PERMANENTLY', order: 'desc' })).toEqual([...failed].reverse());
      const succeededJobs = expected((i) => i % 3 !== 0 && i % 2 === 1);
      expect(await keys({ status: 'succeeded', event: 'job.status' })).toEqual(succeededJobs);
      expect(await keys({ liveMode: false })).toEqual(expected((i) => i % 4 === 0));
      expect(await keys({ liveMode: true, order: 'desc', limit: 2 })).toEqual([23, 22]);
      expect(await keys({ since: 20 })).toEqual([21, 22, 23, 24]);
      expect(await keys({ before: 4 })).toEqual([1, 2, 3]);
      expect(await keys({ since: 5, before: 9, order: 'desc' })).toEqual([8, 7, 6]);
      expect(await keys({ order: 'desc', before: 10, limit: 3 })).toEqual([9, 8, 7]);
      expect(await keys({ event: 'order.status', liveMode: true, since: 4, limit: 2 })).toEqual([6, 10]);
      expect(await keys({ q: 'NUMBER 1' })).toEqual(expected((i) => String(i).startsWith('1')));
      expect(await keys({ q: 'number 2', limit: 1, order: 'desc' })).toEqual([24]);
      expect(await keys({ q: '' })).toEqual(range(1, 24));
      expect(await keys({ limit: 0 })).toEqual([]);
      expect(await keys({ event: 'nothing' })).toEqual([]);
      expect(await keys({ since: 24 })).toEqual([]);
    });

    it('stores a messageId once, also when the same delivery races itself', async () => {
      const store = await open();
      expect(await store.append(body(1), meta(1))).toEqual({ status: 'stored', key: 1 });
      expect(await store.append(body(99), meta(1))).toEqual({ status: 'duplicate', key: 1 });
      const racing = await Promise.all(Array.from({ length: 5 }, () => store.append(body(2), meta(2))));
      expect(racing.filter((r) => r.status === 'stored')).toEqual([{ status: 'stored', key: 2 }]);
      expect(racing.filter((r) => r.status === 'duplicate')).toHaveLength(4);
      for (const r of racing) expect(r).toMatchObject({ key: 2 });
      // Many deliveries, each sent three times at once: one key each, consecutive.
      const ids = range(10, 59);
      const storm = await Promise.all(ids.flatMap((i) => [1, 2, 3].map(() => store.append(body(i), meta(i)))));
      const keyOf = (r: AppendResult) => (r.status === 'stored' || r.status === 'duplicate' ? r.key : -1);
      const stored = storm.filter((r) => r.status === 'stored').map(keyOf);
      expect(stored.sort((a, b) => a - b)).toEqual(range(3, 52));
      ids.forEach((_, n) => expect(new Set(storm.slice(3 * n, 3 * n + 3).map(keyOf)).size).toBe(1));
      // Bodies without a messageId are never deduplicated.
      const none = { ...meta(3), messageId: null };
      expect(await store.append(body(3), none)).toEqual({ status: 'stored', key: 53 });
      expect(await store.append(body(3), none)).toEqual({ status: 'stored', key: 54 });
      expect(store.count).toBe(54);
    });

    it('refuses, alone, what no store can index: control characters, over-long ids, events, statuses', async () => {
      const store = await open();
      // 20 appends at once, as one batch would take them; 4 of them refused, whatever the store behind.
      const bad: Record<number, Partial<RecordMeta>> = {
        3: { messageId: 'm-\u0000-3' },
        7: { messageId: 'x'.repeat(6000) },
        11: { event: 'e'.repeat(8 * 1024) },
        15: { status: 'FAILED\nFORGED' },
      };
      const results = await Promise.all(range(1, 20).map((i) => store.append(body(i), meta(i, bad[i]))));
      for (const i of range(1, 20)) {
        if (bad[i] === undefined) expect(results[i - 1]).toMatchObject({ status: 'stored' });
        else expect(results[i - 1]).toEqual({ status: 'invalid', message: expect.any(String) });
      }
      expect((results[6] as { message: string }).message).toBe('messageId is longer than 256 characters (6000)');
      expect((results[10] as { message: string }).message).toBe('event is longer than 128 characters (8192)');
      expect((results[2] as { message: string }).message).toMatch(/^messageId holds a control character/);
      expect((await all(store)).map((r) => r.key)).toEqual(range(1, 16));
      // The limits themselves are accepted.
      const edge = meta(99, { messageId: 'i'.repeat(256), event: 'e'.repeat(128), status: 's'.repeat(128) });
      expect(await store.append(body(99), edge)).toEqual({ status: 'stored', key: 17 });
    });

    it('answers full past its capacity, as the store counts it, and keeps everything it has', async () => {
      const fixed = (i: number) => meta(1, { messageId: `m-${i}` });
      const size = (i: number, b: Buffer) => sizeOf(i, fixed(i), b);
      const small = Buffer.from('1');
      const big = Buffer.from(`{"pad":"${'x'.repeat(200)}"}`);
      const store = await open(size(1, body(1)) + size(2, body(2)) + size(3, body(3)) + size(4, small));
      for (let i = 1; i <= 3; i++) expect(await store.append(body(i), fixed(i))).toEqual({ status: 'stored', key: i });
      expect(store.bytes).toBe(size(1, body(1)) + size(2, body(2)) + size(3, body(3)));
      expect(await store.append(big, fixed(4))).toEqual({ status: 'full' });
      expect(await store.append(small, fixed(4))).toEqual({ status: 'stored', key: 4 });
      expect(await store.append(small, fixed(5))).toEqual({ status: 'full' });
      expect(store.bytes).toBe(store.maxBytes);
      expect((await all(store)).map((r) => r.key)).toEqual([1, 2, 3, 4]);
      // Full consumes no messageId: once there is room, the same delivery is stored.
      await store.clear();
      expect(await store.append(small, fixed(5))).toEqual({ status: 'stored', key: 1 });
      // The boundary is exact: a store one byte short of a record refuses it.
      const tight = await open(size(1, small) - 1);
      expect(await tight.append(small, fixed(1))).toEqual({ status: 'full' });
    });

    it('clears: keys from 1 again, messageIds forgotten, listeners told, a dump in progress stops', async () => {
      const store = await open();
      for (let i = 1; i <= 5; i++) await store.append(body(i), meta(i));
      let cleared = 0;
      const seen: number[] = [];
      const unsubscribe = store.subscribe(
        (r) => seen.push(r.key),
        () => (cleared += 1),
      );
      const iterator = store.records()[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toMatchObject({ key: 1 });
      await store.clear();
      expect((await iterator.next()).done).toBe(true);
      expect(cleared).toBe(1);
      expect([store.count, store.lastKey, store.bytes]).toEqual([0, 0, 0]);
      expect(await all(store)).toEqual([]);
      expect(await store.append(body(3), meta(3))).toEqual({ status: 'stored', key: 1 });
      expect((await all(store)).map((r) => r.messageId)).toEqual(['m-3']);
      expect(seen).toEqual([1]);
      unsubscribe();
      await store.append(body(4), meta(4));
      await store.clear();
      expect(seen).toEqual([1]);
      expect(cleared).toBe(1);
    });

    it('gets every body across reads: kept by a reader, or copied by a transient one before the next', async () => {
      const store = await open();
      // Bodies from a few bytes to past the file store's 256 KiB read window, so windows are refilled, reused
      // and outgrown, in both orders.
      const middling = Array.from({ length: 300 }, (_, i) => 200 + ((i * 977) % 3000));
      const sizes = [40, 300 * 1024, 90, 70 * 1024, ...middling, 260 * 1024, 12];
      const pad = (n: number, i: number) => String.fromCharCode(97 + (i % 26)).repeat(n);
      const bodies = sizes.map((n, i) => Buffer.from(JSON.stringify({ i, pad: pad(n, i) })));
      for (const [i, b] of bodies.entries()) {
        expect(await store.append(b, meta(i + 1))).toEqual({ status: 'stored', key: i + 1 });
      }
      for (const order of ['asc', 'desc'] as const) {
        const copied: { key: number; body: Buffer }[] = [];
        for await (const r of store.records({ order }, { transient: true })) {
          copied.push({ key: r.key, body: Buffer.from(r.body) });
        }
        const expected = bodies.map((b, i) => ({ key: i + 1, body: b }));
        if (order === 'desc') expected.reverse();
        expect(copied.map((r) => r.key)).toEqual(expected.map((r) => r.key));
        copied.forEach((r, i) => expect(r.body.equals(expected[i]!.body)).toBe(true));
        // A reader that is not transient may keep the bodies it was given: they stay as they were.
        const kept = await all(store, { order });
        kept.forEach((r, i) => expect(r.body.equals(expected[i]!.body)).toBe(true));
      }
    });

    it('tells subscribers about each stored record once it is stored; a listener that throws fails alone', async () => {
      const store = await open();
      const seen: StoredRecord[] = [];
      store.subscribe(() => {
        throw new Error('a broken listener');
      });
      store.subscribe((r) => seen.push(r));
      const result = await store.append(body(1), meta(1));
      expect(result).toEqual({ status: 'stored', key: 1 });
      await store.append(body(1), meta(1)); // duplicate: not a new record
      expect(seen).toHaveLength(1);
      const envelope = { key: 1, messageId: 'm-1', event: 'job.status', status: 'SUCCEEDED', liveMode: true };
      expect(seen[0]).toMatchObject(envelope);
      expect(seen[0]!.body.equals(body(1))).toBe(true);
      expect(seen[0]!.receivedAt).toBe((await all(store))[0]!.receivedAt);
    });

    it('close keeps what it acknowledged; appends after close answer error', async () => {
      const store = await open();
      const pending = range(1, 20).map((i) => store.append(body(i), meta(i)));
      await store.close();
      const results = await Promise.all(pending);
      expect(results.every((r) => r.status === 'stored')).toBe(true);
      expect(await store.append(body(21), meta(21))).toMatchObject({ status: 'error' });
      await store.close(); // a second close is harmless
    });
  });
}
