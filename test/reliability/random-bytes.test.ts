import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startRunner, type RunningRunner } from '../../forwarder/runner/server.js';
import { call, startTestSink, type TestSink } from '../sink/sink-support.js';
import { rawExchange, stopInProcess } from './support.js';

// Random bytes on a raw socket, to the sink and to the runner, for a bounded time each: alone, after a
// request line, or as the body of a well-formed request. Neither server may crash or hang; anything it
// stores is something it acknowledged with a 200; and after every run a good request is answered.

const RUNS = 400;
const TIME_LIMIT_MS = 8_000;

let dataDir: string;
let sink: TestSink;
let downstream: TestSink;
let runner: RunningRunner;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'reliability-random-'));
  sink = await startTestSink(
    { dataDir, maxBodyBytes: 16 * 1024 },
    { server: { headersTimeoutMs: 500, requestTimeoutMs: 1_000 } },
  );
  downstream = await startTestSink({ store: 'memory' });
  runner = await startRunner(
    { host: '127.0.0.1', port: 0 },
    {
      UP42_WEBHOOK_SECRET: 'random-bytes-secret',
      SINK_URL: downstream.url,
      FORWARD_MAX_ATTEMPTS: '1',
      FORWARD_DEADLINE_MS: '2000',
    },
    { log: () => undefined, maxBodyBytes: 16 * 1024 },
  );
});
afterAll(() => stopInProcess(runner, [sink, downstream], dataDir));

const bytes = fc.uint8Array({ minLength: 1, maxLength: 4096 });
/** Bytes alone, behind a request line, or as a declared body of a well-formed POST. */
const input = fc.oneof(
  bytes.map((b) => Buffer.from(b)),
  fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
      fc.constantFrom('/', '/ping', '/receive-webhooks', '/dump-webhooks', '/events'),
      bytes,
    )
    .map(([m, p, b]) => Buffer.concat([Buffer.from(`${m} ${p} HTTP/1.1\r\n`), b])),
  bytes.map((b) =>
    Buffer.concat([
      Buffer.from(
        'POST /receive-webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${b.length}\r\n\r\n`,
      ),
      b,
    ]),
  ),
  fc.string({ unit: 'binary', maxLength: 2048 }).map((s) => Buffer.from(s, 'utf8')),
);

describe.each(['sink', 'runner'] as const)('random bytes to the %s', (target) => {
  it(
    `${RUNS} runs or ${TIME_LIMIT_MS / 1000} s: no crash, no hang, nothing stored without a 200, ` +
      'the next good request answered',
    async () => {
      const port = () => Number(new URL(target === 'sink' ? sink.url : runner.url).port);
      const count = () => (target === 'sink' ? sink.store.count : downstream.store.count);
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(input, async (data) => {
          runs += 1;
          const before = count();
          const reply = await rawExchange(port(), [{ hex: data.toString('hex') }], { endWrite: true, waitMs: 2_500 });
          // Half-closed by us, the server must finish: answer and close, or just close. Never leave us waiting.
          expect(reply.ended).toBe('closed');
          // An append under way when the connection ended completes within one sync; let it land in this run (what
          // is checked is that nothing else was stored, which no event announces).
          await new Promise((r) => setTimeout(r, reply.data === '' ? 100 : 5));
          // Random bytes can make a valid JSON body (`7`, `"a"`): stored then, and said so. Nothing else is kept.
          // One exception, as in the crash test: a complete request whose client half-closes before the answer is
          // ready gets no answer (Node ends such a connection) and may be stored, once.
          const acknowledged = (reply.data.match(/\{"msg": "value with key \d+ stored"\}/g) ?? []).length;
          const added = count() - before;
          if (target === 'runner') expect(added).toBe(0);
          else if (reply.data === '') expect(added).toBeLessThanOrEqual(1);
          else expect(added).toBe(acknowledged);
          const good = await call(target === 'sink' ? sink.url : runner.url, '/ping');
          expect(good.status).toBe(target === 'sink' ? 200 : 401);
        }),
        { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
      );
      expect(runs).toBeGreaterThan(10);
    },
    TIME_LIMIT_MS + 20_000,
  );
});
