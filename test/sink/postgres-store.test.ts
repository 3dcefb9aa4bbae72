import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { parseSinkConfig } from '../../shared/config.js';
import { createAppendQueue } from '../../sink/store/postgres-append.js';
import { redactUrl } from '../../sink/store/postgres-connection.js';
import { openPostgresStore, type PostgresStore } from '../../sink/store/postgres-store.js';
import { migrate, MIGRATIONS } from '../../sink/store/postgres-schema.js';
import type { RecordMeta, WebhookStore } from '../../sink/store/types.js';
import { startPostgres, type PostgresServer } from '../../bench/postgres-server.js';
import { destroyAgent, post, startTestSink } from './sink-support.js';

/*
 * The PostgreSQL store against a real server these tests start themselves (bench/postgres-server.ts): what only it
 * does (several sinks on one database, migrations, start). The contract every store keeps is checked for it in
 * test/sink/store.test.ts.
 */

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  destroyAgent();
  await server?.stop();
});

let databases = 0;
const freshDatabase = () => server.createDatabase(`store_${++databases}`);

const meta = (i: number, over: Partial<RecordMeta> = {}): RecordMeta => ({
  messageId: `m-${i}`,
  event: i % 2 === 0 ? 'order.status' : 'job.status',
  status: i % 3 === 0 ? 'FAILED_PERMANENTLY' : 'SUCCEEDED',
  liveMode: i % 4 !== 0,
  ...over,
});
const body = (i: number) => Buffer.from(`{"n":${i},"text":"webhook number ${i}"}`);

/** Resolves once `pred` holds, checked after each event the store announces (no fixed sleeps). */
function until(store: WebhookStore, pred: () => boolean, what: string, ms = 5_000): Promise<void> {
  if (pred()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    const check = () => {
      if (!pred()) return;
      clearTimeout(timer);
      off();
      resolve();
    };
    const off = store.subscribe(check, check);
  });
}

describe('postgres store: several sinks on one database', () => {
  let url: string;
  let a: PostgresStore;
  let b: PostgresStore;
  beforeAll(async () => {
    url = await freshDatabase();
    // Four sinks starting at once on an empty database: the migrations take turns.
    const opened = await Promise.all([0, 1, 2, 3].map(() => openPostgresStore({ url, maxBytes: 1 << 30 })));
    [a, b] = opened as [PostgresStore, PostgresStore];
    await opened[2]!.close();
    await opened[3]!.close();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('created the schema once, at the newest version', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const versions = await client.query('SELECT version FROM sink_schema_version ORDER BY version');
      expect(versions.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await client.end();
    }
  });

  it('gives consecutive keys across both, de-duplicates across both, and each hears the other', async () => {
    const heardByA: number[] = [];
    const offA = a.subscribe((r) => heardByA.push(r.key));
    const stores = [a, b];
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => stores[i % 2]!.append(body(i), meta(i, { messageId: `x-${i % 150}` }))),
    );
    const stored = results.filter((r) => r.status === 'stored').map((r) => (r as { key: number }).key);
    expect(stored.sort((x, y) => x - y)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(50);
    await until(a, () => heardByA.length === 150, 'a to hear all 150');
    expect(heardByA).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    await until(b, () => b.lastKey === 150, 'b to know the last key');
    expect([a.count, b.count, a.bytes === b.bytes]).toEqual([150, 150, true]);
    offA();
    // A clear through b: a hears it, and both count from 1 again.
    let clearedA = 0;
    const offCleared = a.subscribe(
      () => undefined,
      () => (clearedA += 1),
    );
    await b.clear();
    await until(a, () => clearedA === 1, 'a to hear the clear');
    expect(a.count).toBe(0);
    expect(await a.append(body(1), meta(1, { messageId: 'after-clear' }))).toEqual({ status: 'stored', key: 1 });
    offCleared();
  });

  it('refuses a body a text column cannot hold, alone, without failing the others of its batch', async () => {
    const results = await Promise.all([
      a.append(Buffer.from('{"ok":1}'), meta(1, { messageId: 'batch-1' })),
      a.append(Buffer.from([0x7b, 0xff, 0x7d]), meta(2, { messageId: 'batch-2' })),
      a.append(Buffer.from('{"nul":"\0"}'), meta(3, { messageId: 'batch-3' })),
      a.append(Buffer.from('{"ok":2}'), meta(4, { messageId: 'batch-4' })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['stored', 'error', 'error', 'stored']);
    expect((results[3] as { key: number }).key).toBe((results[0] as { key: number }).key + 1);
  });

  it('tries a batch the database refused again one by one, so only the guilty webhook gets an error', async () => {
    // Straight to the append queue, past the store's own checks, as a value no check foresaw would come.
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const committed: number[] = [];
    const queue = createAppendQueue(pool, 1 << 30, (row) => committed.push(Number(row.key)));
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          queue.append(body(i), meta(i, { messageId: i === 7 ? 'retry-\u0000-7' : `retry-${i}` })),
        ),
      );
      expect(results[7]).toEqual({ status: 'error', message: expect.stringMatching(/0x00/) });
      const stored = results.filter((r) => r.status === 'stored');
      expect(stored).toHaveLength(19);
      // In arrival order, consecutive: the retry keeps the order of the batch.
      const keys = stored.map((r) => (r as { key: number }).key);
      expect(keys).toEqual(Array.from({ length: 19 }, (_, i) => keys[0]! + i));
      expect(committed).toEqual(keys);
    } finally {
      await queue.drain();
      await pool.end();
    }
  });

  it('answers 400 over HTTP to the one webhook no store can index, and 200 to the 19 sent with it', async () => {
    const sink = await startTestSink({ store: 'postgres', databaseUrl: url });
    try {
      const bad: Record<number, Record<string, string>> = {
        4: { messageId: 'http-\u0000-4' },
        9: { messageId: 'm'.repeat(6000) },
        14: { event: 'e'.repeat(8 * 1024) },
      };
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          post(sink.url, JSON.stringify({ messageId: `http-${i}`, event: 'job.status', ...bad[i] })),
        ),
      );
      expect(replies.map((r) => r.status)).toEqual(Array.from({ length: 20 }, (_, i) => (bad[i] ? 400 : 200)));
      expect(replies[9]!.text).toBe(
        '{"code": 400, "msg": "webhook refused: messageId is longer than 256 characters (6000)"}\n',
      );
      expect(replies[4]!.text).toMatch(/webhook refused: messageId holds a control character/);
      expect(replies[14]!.text).toMatch(/webhook refused: event is longer than 128 characters \(8192\)/);
    } finally {
      await sink.close();
    }
  });

  it('keeps each body in a table people can query: jsonb and the raw text', async () => {
    const raw = Buffer.from('{\n  "event": "order.status",\n  "nul": "a\\u0000b"\n}');
    const key = ((await a.append(raw, meta(7, { messageId: 'nul' }))) as { key: number }).key;
    const plain = ((await a.append(body(8), meta(8, { messageId: 'plain' }))) as { key: number }).key;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const rows = await client.query(
        'SELECT key, body, body_text, event, status, live_mode, message_id FROM sink_webhooks ' +
          'WHERE key = ANY($1) ORDER BY key',
        [[key, plain]],
      );
      // jsonb cannot hold \u0000: the raw text keeps it, the jsonb column is null.
      expect(rows.rows[0]).toMatchObject({
        body: null,
        body_text: raw.toString('utf8'),
        event: 'job.status',
        message_id: 'nul',
      });
      expect(rows.rows[1]).toMatchObject({
        body: { n: 8, text: 'webhook number 8' },
        event: 'order.status',
        live_mode: false,
      });
    } finally {
      await client.end();
    }
  });
});

describe('postgres store: migrations', () => {
  it('applies only the missing ones, in order, and refuses a schema newer than the sink', async () => {
    const url = await freshDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      expect(await migrate(client, MIGRATIONS.slice(0, 1))).toEqual([1]);
      expect(await migrate(client)).toEqual([2]);
      expect(await migrate(client)).toEqual([]);
      const next = { version: 3, description: 'a test column', sql: 'ALTER TABLE sink_webhooks ADD COLUMN note text' };
      expect(await migrate(client, [...MIGRATIONS, next])).toEqual([3]);
      const columns = await client.query("SELECT 1 FROM information_schema.columns WHERE column_name = 'note'");
      expect(columns.rowCount).toBe(1);
      await expect(migrate(client)).rejects.toThrow("the database's schema is at version 3, newer than this sink's 2");
    } finally {
      await client.end();
    }
    const refused = await openPostgresStore({ url, maxBytes: 1024 }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(refused?.message).toMatch(new RegExp(`^cannot prepare the database at ${url}: `));
    expect(refused?.message).toContain('newer than this sink');
  });
});

describe('postgres store: start', () => {
  it('names the URL without its password when the database cannot be reached', async () => {
    const url = `postgres://team:s3cret-pw@127.0.0.1:${server.port + 1}/webhooks?sslmode=disable`;
    const err = await openPostgresStore({ url, maxBytes: 1024 }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(
      /^cannot connect to PostgreSQL at postgres:\/\/team:\*\*\*@127\.0\.0\.1:\d+\/webhooks\?sslmode=disable: /,
    );
    expect(err?.message).not.toContain('s3cret');
  });

  it('takes what the URL leaves out from the standard PG* variables', async () => {
    const database = new URL(await freshDatabase()).pathname.slice(1);
    const saved = { PGHOST: process.env.PGHOST, PGPORT: process.env.PGPORT, PGUSER: process.env.PGUSER };
    Object.assign(process.env, { PGHOST: '127.0.0.1', PGPORT: String(server.port), PGUSER: 'postgres' });
    try {
      const store = await openPostgresStore({ url: `postgres:///${database}`, maxBytes: 1024 });
      try {
        expect(await store.append(body(1), meta(1))).toEqual({ status: 'stored', key: 1 });
      } finally {
        await store.close();
      }
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('hides passwords however the URL carries them', () => {
    expect(redactUrl('postgresql://u:p%40ss@db.example:5432/x')).toBe('postgresql://u:***@db.example:5432/x');
    expect(redactUrl('postgres://db.example/x?password=pw&sslmode=require')).toBe(
      'postgres://db.example/x?password=***&sslmode=require',
    );
    expect(redactUrl('postgres://u@db.example/x')).toBe('postgres://u@db.example/x');
  });

  it('reads SINK_STORE=postgres with SINK_DATABASE_URL, and says what is missing', () => {
    const parsed = parseSinkConfig({ SINK_STORE: 'postgres', SINK_DATABASE_URL: 'postgres://u:p@h/db' });
    expect(parsed.ok && [parsed.value.store, parsed.value.databaseUrl]).toEqual(['postgres', 'postgres://u:p@h/db']);
    const missing = parseSinkConfig({ SINK_STORE: 'postgres' });
    expect(!missing.ok && missing.message).toContain('SINK_DATABASE_URL is not set');
    const wrong = parseSinkConfig({ SINK_STORE: 'postgres', SINK_DATABASE_URL: 'mysql://h/db' });
    expect(!wrong.ok && wrong.message).toContain('SINK_DATABASE_URL must be a postgres:// or postgresql:// URL');
    const file = parseSinkConfig({ SINK_DATABASE_URL: 'postgres://u:p@h/db' });
    expect(file.ok && file.value.databaseUrl).toBeNull();
  });
});
