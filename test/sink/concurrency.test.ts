import { afterAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DATA_FILE } from '../../sink/store/file-store.js';
import { call, destroyAgent, dumpLines, post, startTestSink, tempDir } from './sink-support.js';

afterAll(() => destroyAgent());

/*
 * The article's sink keeps a counter per nginx worker and loses webhooks under load. Here 50 clients post
 * 2,000 webhooks at once to the durable store: keys must be exactly 1..2000, every body present once, on disk.
 */
describe('concurrent deliveries', () => {
  it('2,000 POSTs from 50 concurrent clients get keys exactly 1..2000, each body stored once', async () => {
    const tmp = await tempDir();
    const sink = await startTestSink({ dataDir: tmp.dir });
    try {
      const total = 2000;
      const clients = 50;
      const keyOf = new Map<number, number>();
      let next = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          for (;;) {
            const n = next++;
            if (n >= total) return;
            const r = await post(sink.url, JSON.stringify({ messageId: `concurrent-${n}`, n }));
            expect(r.status).toBe(200);
            const m = /^\{"msg": "value with key (\d+) stored"\}\n$/.exec(r.text);
            expect(m).not.toBeNull();
            keyOf.set(n, Number(m![1]));
          }
        }),
      );
      const keys = [...keyOf.values()].sort((a, b) => a - b);
      expect(keys).toEqual(Array.from({ length: total }, (_, i) => i + 1));

      const { lines, count } = dumpLines((await call(sink.url, '/dump-webhooks')).text);
      expect(count).toBe(total);
      const seen = lines.map((l) => (JSON.parse(l) as { n: number }).n);
      expect(new Set(seen).size).toBe(total);
      // The dump is in key order, and each body sits under the key its POST was told.
      seen.forEach((n, i) => expect(keyOf.get(n)).toBe(i + 1));

      // Durable: the file holds the same records, keys in order.
      const onDisk = (await readFile(path.join(tmp.dir, DATA_FILE), 'utf8')).trimEnd().split('\n');
      expect(onDisk.map((l) => (JSON.parse(l) as { key: number }).key)).toEqual(keys);
    } finally {
      await sink.close();
      await tmp.remove();
    }
  });
});
