import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { waitFor as waitForShared } from '../support/wait-for.js';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { DATA_FILE } from '../../sink/store/file-store.js';
import { call, destroyAgent, dumpLines, post, runSink, spawnSink, tempDir, type SpawnedSink } from './sink-support.js';

/* The real entry point (`npm start` runs it), spawned: startup output, signals, restart durability. */

let tmp: Awaited<ReturnType<typeof tempDir>>;
let running: SpawnedSink[] = [];
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  for (const s of running) await s.stop('SIGKILL');
  running = [];
  await tmp.remove();
});
afterAll(() => destroyAgent());

async function start(vars: Record<string, string>): Promise<SpawnedSink> {
  const s = await spawnSink(vars);
  running.push(s);
  return s;
}

const waitFor = (pred: () => boolean, what: string) => waitForShared(pred, { what, timeoutMs: 5000, intervalMs: 20 });

describe('npm start (sink/main.ts)', () => {
  it('says where it listens, where the data is and how many webhooks it holds; logs requests on stdout', async () => {
    const sink = await start({ SINK_DATA_DIR: tmp.dir });
    expect(sink.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sink.stdout()).toContain(`data in ${path.join(tmp.dir, DATA_FILE)}\n`);
    expect(sink.stdout()).toMatch(/^0 webhooks stored/m);
    expect(sink.stderr()).toBe('');
    await call(sink.url, '/ping', { headers: { 'user-agent': 'curl/8.5.0' } });
    // What the article's `awk '$0 ~ "GET /ping"'` picks out of the log.
    await waitFor(() => sink.stdout().includes('"GET /ping'), 'the access log line');
    const line = sink
      .stdout()
      .split('\n')
      .find((l) => l.includes('"GET /ping'))!;
    expect(line).toMatch(
      new RegExp(
        /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] /.source +
          /"GET \/ping HTTP\/1\.1" 200 4 "-" "curl\/8\.5\.0"$/.source,
      ),
    );
    expect(await sink.stop('SIGINT')).toBe(0);
  });

  it('restarts with every acknowledged webhook, and repairs a torn last line appended by hand', async () => {
    const first = await start({
      SINK_DATA_DIR: tmp.dir,
      SINK_BASIC_AUTH_USER: 'relay',
      SINK_BASIC_AUTH_PASS: 'eight+ characters',
    });
    const auth = { authorization: `Basic ${Buffer.from('relay:eight+ characters').toString('base64')}` };
    const bodies = [
      '{"messageId":"a","event":"job.status","liveMode":false,"body":{"status":"SUCCEEDED"}}',
      '{\n  "messageId": "b",\n  "n": 1.0\n}\n',
      '[1,2,3]',
      '{"messageId":"c","text":"ünïcödé ✓"}',
    ];
    for (const [i, b] of bodies.entries())
      expect((await post(first.url, b, auth)).text).toBe(`{"msg": "value with key ${i + 1} stored"}\n`);
    const dump = (await call(first.url, '/dump-webhooks', { headers: auth })).text;
    const envelope = (await call(first.url, '/dump-webhooks?envelope=1', { headers: auth })).text;
    expect(dumpLines(dump).count).toBe(4);
    expect(await first.stop('SIGTERM')).toBe(0);
    const file = path.join(tmp.dir, DATA_FILE);
    const size = (await stat(file)).size;

    const second = await start({
      SINK_DATA_DIR: tmp.dir,
      SINK_BASIC_AUTH_USER: 'relay',
      SINK_BASIC_AUTH_PASS: 'eight+ characters',
    });
    expect(second.stdout()).toMatch(/^4 webhooks stored/m);
    expect((await call(second.url, '/dump-webhooks', { headers: auth })).text).toBe(dump);
    expect((await call(second.url, '/dump-webhooks?envelope=1', { headers: auth })).text).toBe(envelope);
    expect(await second.stop('SIGTERM')).toBe(0);

    // A crash in the middle of a write leaves a partial record; it was never acknowledged.
    const torn = '{"key":5,"receivedAt":"2026-11-30T07:01:43.512Z","messageId":"d","eve';
    await appendFile(file, torn);
    const third = await start({
      SINK_DATA_DIR: tmp.dir,
      SINK_BASIC_AUTH_USER: 'relay',
      SINK_BASIC_AUTH_PASS: 'eight+ characters',
    });
    expect(third.stdout()).toMatch(/^4 webhooks stored/m);
    expect(third.stdout()).toMatch(new RegExp(`repaired the data file: cut ${torn.length} bytes`));
    expect((await stat(file)).size).toBe(size);
    expect((await call(third.url, '/dump-webhooks', { headers: auth })).text).toBe(dump);
    expect((await post(third.url, '{"messageId":"d"}', auth)).text).toBe('{"msg": "value with key 5 stored"}\n');
    expect((await post(third.url, bodies[0]!, auth)).text).toBe('{"msg": "value with key 1 already stored"}\n');
    expect(third.stdout() + third.stderr()).not.toContain('eight+ characters');
    expect(await third.stop('SIGTERM')).toBe(0);
  });

  it('on SIGTERM finishes a request in flight, stores it, and exits 0', async () => {
    const sink = await start({ SINK_DATA_DIR: tmp.dir });
    const body = '{"messageId":"in-flight","n":1}';
    const reply = new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(sink.url).port), '127.0.0.1');
      let out = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (out += d));
      socket.on('close', () => resolve(out));
      socket.write(
        'POST /receive-webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
      );
      setTimeout(() => {
        sink.child.kill('SIGTERM');
        setTimeout(() => socket.write(body.slice(10)), 300);
      }, 200);
    });
    const out = await reply;
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out).toContain('Connection: close');
    expect(out.endsWith('{"msg": "value with key 1 stored"}\n')).toBe(true);
    expect(await sink.stop()).toBe(0);
    const onDisk = await readFile(path.join(tmp.dir, DATA_FILE), 'utf8');
    expect(onDisk).toContain(`"body":${body}}\n`);
  });

  it('runs a memory store on request, saying nothing is written to disk', async () => {
    const sink = await start({ SINK_DATA_DIR: tmp.dir, SINK_STORE: 'memory' });
    expect(sink.stdout()).toMatch(/^memory store/m);
    expect((await post(sink.url, '{"a":1}')).status).toBe(200);
    expect(await sink.stop('SIGTERM')).toBe(0);
    await expect(stat(path.join(tmp.dir, DATA_FILE))).rejects.toThrow();
  });

  it('refuses to start on a data directory another running sink holds, and touches nothing', async () => {
    const first = await start({ SINK_DATA_DIR: tmp.dir });
    expect((await post(first.url, '{"messageId":"kept"}')).status).toBe(200);
    const before = await readFile(path.join(tmp.dir, DATA_FILE));
    const second = runSink({ SINK_DATA_DIR: tmp.dir });
    const stillRunning = new Promise<string>((resolve) => setTimeout(resolve, 10_000, 'still running').unref());
    const exit = await Promise.race([second.exited, stillRunning]);
    if (exit === 'still running') second.child.kill('SIGKILL');
    expect(exit).toBe(1);
    expect(second.err()).toMatch(/in use by another sink/);
    expect((await readFile(path.join(tmp.dir, DATA_FILE))).equals(before)).toBe(true);
    expect(dumpLines((await call(first.url, '/dump-webhooks')).text)).toEqual({
      lines: ['{"messageId":"kept"}'],
      count: 1,
    });
    expect(await first.stop('SIGTERM')).toBe(0);
  });

  it('exits 2 naming the variable on a configuration error', async () => {
    const run = runSink({ SINK_DATA_DIR: tmp.dir, SINK_PORT: 'eighty', SINK_BASIC_AUTH_USER: 'only-user' });
    expect(await run.exited).toBe(2);
    expect(run.err()).toMatch(/SINK_PORT/);
    expect(run.err()).toMatch(/SINK_BASIC_AUTH_PASS/);
    expect(run.out()).toBe('');
  });
});
