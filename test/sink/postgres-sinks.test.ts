import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { get, type ClientRequest } from 'node:http';
import { call, destroyAgent, dumpLines, post, runSink, spawnSink, type SpawnedSink } from './sink-support.js';
import { startPostgres, type PostgresServer } from '../../bench/postgres-server.js';

/*
 * Several real sink processes (sink/main.ts, as `npm start` runs it) on one PostgreSQL database, which these
 * tests start themselves: keys, de-duplication and the live stream across sinks, a sink killed under load,
 * and the database going away and coming back.
 */

let server: PostgresServer;
let databases = 0;
let running: SpawnedSink[] = [];
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterEach(async () => {
  for (const s of running) await s.stop('SIGKILL');
  running = [];
});
afterAll(async () => {
  destroyAgent();
  await server?.stop();
});

async function twoSinks(): Promise<[SpawnedSink, SpawnedSink]> {
  const url = await server.createDatabase(`sinks_${++databases}`);
  const vars = { SINK_STORE: 'postgres', SINK_DATABASE_URL: url };
  // Started together: both migrate the empty database at once.
  const pair = await Promise.all([spawnSink(vars), spawnSink(vars)]);
  running.push(...pair);
  return pair;
}

const keysByMessageId = (lines: string[]) =>
  new Map(lines.map((l) => JSON.parse(l) as { key: number; messageId: string }).map((r) => [r.messageId, r.key]));

const stored = (text: string) =>
  Number(/^\{"msg": "value with key (\d+) (already )?stored"\}\n$/.exec(text)?.[1] ?? NaN);

/** Waits until `pred` holds for the text the stream gives `read`; every check follows new output. */
function waitForOutput(
  read: () => string,
  stream: NodeJS.ReadableStream,
  pred: (text: string) => boolean,
  what: string,
): Promise<void> {
  if (pred(read())) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.off('data', check);
      reject(new Error(`timed out waiting for ${what}; so far: ${read()}`));
    }, 15_000);
    function check() {
      // The sink's own listener appends after this one: look once the chunk is in.
      setImmediate(() => {
        if (!pred(read())) return;
        clearTimeout(timer);
        stream.off('data', check);
        resolve();
      });
    }
    stream.on('data', check);
  });
}

interface Sse {
  webhooks: { id: number; data: { key: number; messageId: string | null; body: unknown } }[];
  /** Resolves once a webhook event with key `key` came, or rejects after `ms`. */
  webhook(key: number, ms: number): Promise<void>;
  close(): void;
}

function events(url: string, headers: Record<string, string> = {}): Promise<Sse> {
  return new Promise((resolve, reject) => {
    const webhooks: Sse['webhooks'] = [];
    const waiters = new Set<() => void>();
    let buffer = '';
    const req: ClientRequest = get(`${url}/events`, { headers }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`GET /events answered ${res.statusCode}`));
      res.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const field = (name: string) => [...block.matchAll(/^(\w+): (.*)$/gm)].find((m) => m[1] === name)?.[2];
          if (field('event') === 'webhook')
            webhooks.push({ id: Number(field('id')), data: JSON.parse(field('data')!) });
        }
        for (const w of waiters) w();
      });
      resolve({
        webhooks,
        webhook: (key, ms) =>
          new Promise((done, fail) => {
            const check = () => {
              if (!webhooks.some((w) => w.id === key)) return;
              clearTimeout(timer);
              waiters.delete(check);
              done();
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no webhook ${key} within ${ms} ms; got ${webhooks.map((w) => w.id).join(',')}`));
            }, ms);
            waiters.add(check);
            check();
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

describe('two sinks on one PostgreSQL database', () => {
  it('take 2,000 webhooks from 50 concurrent clients and end with keys 1..2000, each body once', async () => {
    const sinks = await twoSinks();
    const acked = new Map<number, string>();
    let next = 0;
    const client = async (c: number) => {
      for (;;) {
        const n = next++;
        if (n >= 2000) return;
        const body = JSON.stringify({ messageId: `load-${n}`, event: 'job.status', body: { n, client: c } });
        const reply = await post(sinks[n % 2]!.url, body);
        expect(reply.status).toBe(200);
        acked.set(stored(reply.text), body);
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, c) => client(c)));
    expect([...acked.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    for (const sink of sinks) {
      const { lines, count } = dumpLines((await call(sink.url, '/dump-webhooks?envelope=1')).text);
      expect(count).toBe(2000);
      const seen = lines.map((l) => JSON.parse(l) as { key: number; body: unknown });
      expect(seen.map((r) => r.key)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
      for (const r of seen) expect(JSON.stringify(r.body)).toBe(acked.get(r.key));
      expect(JSON.parse((await call(sink.url, '/stats')).text)).toMatchObject({ count: 2000, lastKey: 2000 });
    }
  });

  it('store a messageId sent to both at the same moment once, under the first key', async () => {
    const [a, b] = await twoSinks();
    for (let i = 0; i < 20; i++) {
      const body = JSON.stringify({ messageId: `same-${i}`, event: 'order.status', body: { status: 'FULFILLED' } });
      const replies = await Promise.all([post(a.url, body), post(b.url, body)]);
      expect(replies.map((r) => r.status)).toEqual([200, 200]);
      expect(replies.filter((r) => r.text.includes('already stored'))).toHaveLength(1);
      expect(stored(replies[0]!.text)).toBe(i + 1);
      expect(stored(replies[1]!.text)).toBe(i + 1);
    }
    expect(dumpLines((await call(a.url, '/dump-webhooks')).text).count).toBe(20);
  });

  it("show in one sink's inbox stream, within a second, a webhook posted to the other; resume, clear", async () => {
    const [a, b] = await twoSinks();
    const live = await events(a.url);
    try {
      const reply = await post(b.url, '{"messageId":"live-1","event":"job.status","body":{"status":"FAILED"}}');
      await live.webhook(stored(reply.text), 1_000);
      expect(live.webhooks[0]!.data).toMatchObject({
        key: 1,
        messageId: 'live-1',
        body: { body: { status: 'FAILED' } },
      });
      for (let i = 2; i <= 4; i++) await post(b.url, `{"messageId":"live-${i}"}`);
      await live.webhook(4, 1_000);
      expect(live.webhooks.map((w) => w.id)).toEqual([1, 2, 3, 4]);
    } finally {
      live.close();
    }
    // A client reconnecting to a with Last-Event-ID: 2 gets 3 and 4 (stored through b) from the table.
    const resumed = await events(a.url, { 'Last-Event-ID': '2' });
    try {
      await resumed.webhook(4, 1_000);
      expect(resumed.webhooks.map((w) => w.id)).toEqual([3, 4]);
    } finally {
      resumed.close();
    }
    expect((await call(b.url, '/dump-webhooks', { method: 'DELETE' })).status).toBe(200);
    expect(stored((await post(a.url, '{"after":"clear"}')).text)).toBe(1);
  });

  it('lose no acknowledged webhook when one is killed with SIGKILL under load; the other keeps serving', async () => {
    const [a, b] = await twoSinks();
    const acked = new Map<string, number>();
    let n = 0;
    let killed = false;
    const client = async (target: SpawnedSink, clientId: number) => {
      for (let i = 0; i < 60; i++) {
        const id = `kill-${clientId}-${i}`;
        const reply = await post(target.url, JSON.stringify({ messageId: id, n: n++ })).catch(() => null);
        if (reply === null) return; // the connection died with the sink: not acknowledged
        if (reply.status === 200) acked.set(id, stored(reply.text));
        if (!killed && acked.size >= 300) {
          killed = true;
          a.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, c) => client(c % 2 === 0 ? a : b, c)));
    expect(killed).toBe(true);
    expect(await a.stop()).toBe(null); // gone by SIGKILL
    const { lines } = dumpLines((await call(b.url, '/dump-webhooks?envelope=1')).text);
    const kept = keysByMessageId(lines);
    for (const [id, key] of acked) expect(kept.get(id)).toBe(key);
    expect([...kept.values()]).toEqual(Array.from({ length: kept.size }, (_, i) => i + 1));
    // b served all its clients' 600 webhooks.
    expect([...acked.keys()].filter((id) => Number(id.split('-')[1]) % 2 === 1)).toHaveLength(600);
  });

  it('answer 503 while the database is down, acknowledge nothing then, and recover by themselves', async () => {
    const [a, b] = await twoSinks();
    expect(stored((await post(a.url, '{"messageId":"before"}')).text)).toBe(1);
    await server.halt();
    try {
      for (const sink of [a, b]) {
        await waitForOutput(
          sink.stderr,
          sink.child.stderr!,
          (t) => t.includes('database connection was lost'),
          'the lost connection',
        );
        const reply = await post(sink.url, '{"messageId":"during"}');
        expect(reply.status).toBe(503);
        expect(JSON.parse(reply.text)).toMatchObject({ code: 503, msg: expect.stringContaining('database') });
        expect(reply.headers['retry-after']).toBe('2');
        expect((await call(sink.url, '/dump-webhooks')).status).toBe(503);
        expect((await call(sink.url, '/stats')).status).toBe(503);
        expect((await call(sink.url, '/dump-webhooks', { method: 'DELETE' })).status).toBe(503);
        expect((await call(sink.url, '/ping')).status).toBe(200);
      }
    } finally {
      await server.start();
    }
    for (const sink of [a, b]) {
      await waitForOutput(
        sink.stderr,
        sink.child.stderr!,
        (t) => t.includes('database connection is restored'),
        'the reconnection',
      );
    }
    expect(stored((await post(b.url, '{"messageId":"during"}')).text)).toBe(2);
    const { lines } = dumpLines((await call(a.url, '/dump-webhooks')).text);
    expect(lines).toEqual(['{"messageId":"before"}', '{"messageId":"during"}']);
    expect(a.stderr()).not.toMatch(/password/i);
  });
});

describe('two sinks under load when the database stops', () => {
  it('keep every webhook they acknowledged, answer 503 meanwhile, and store again once it is back', async () => {
    const [a, b] = await twoSinks();
    const acked = new Map<string, number>();
    const refused = new Set<number>();
    let halted = false;
    let stopping = false;
    let n = 0;
    let resume: () => void = () => undefined;
    const restarted = new Promise<void>((resolve) => (resume = resolve));
    let wanted: { count: number; reached: () => void } | null = null;
    const client = async (target: SpawnedSink) => {
      while (!stopping) {
        const id = `outage-${n++}`;
        const reply = await post(target.url, JSON.stringify({ messageId: id }));
        if (reply.status === 200) acked.set(id, stored(reply.text));
        else refused.add(reply.status);
        if (wanted !== null && acked.size >= wanted.count) wanted.reached();
        if (!halted && acked.size >= 200) {
          halted = true;
          // Stopped with requests in flight: their transactions are cut off, their senders must not get a 200.
          void server
            .halt()
            .then(() => server.start())
            .then(resume);
        }
        if (reply.status !== 200 && !halted) throw new Error(`refused before the outage: ${reply.text}`);
      }
    };
    const clients = Promise.all(Array.from({ length: 16 }, (_, c) => client(c % 2 === 0 ? a : b)));
    await restarted;
    for (const sink of [a, b]) {
      await waitForOutput(sink.stderr, sink.child.stderr!, (t) => t.includes('connection is restored'), 'reconnection');
    }
    // They store again: wait for 100 more acknowledgements.
    await new Promise<void>((resolve) => (wanted = { count: acked.size + 100, reached: resolve }));
    stopping = true;
    await clients;
    expect([...refused]).toEqual([503]);
    const { lines } = dumpLines((await call(a.url, '/dump-webhooks?envelope=1')).text);
    const kept = keysByMessageId(lines);
    for (const [id, key] of acked) expect(kept.get(id)).toBe(key);
    expect([...kept.values()]).toEqual(Array.from({ length: kept.size }, (_, i) => i + 1));
  });
});

describe('a sink whose database cannot be reached at start', () => {
  it('exits 1 with a clear error naming the URL without its password', async () => {
    const url = `postgres://team:pw-not-shown@127.0.0.1:${server.port + 1}/webhooks`;
    const run = runSink({ SINK_STORE: 'postgres', SINK_DATABASE_URL: url });
    expect(await run.exited).toBe(1);
    expect(run.err()).toContain(
      `sink: cannot start: cannot connect to PostgreSQL at postgres://team:***@127.0.0.1:${server.port + 1}/webhooks: `,
    );
    expect(run.err() + run.out()).not.toContain('pw-not-shown');
  });
});
