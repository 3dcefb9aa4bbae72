import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomInput } from '../reliability/random-input.js';
import { rawExchange } from '../reliability/support.js';
import { startStubSink, type StubSink } from '../forwarder/stub-sink.js';
import { buildWorkerOnce, outbox, startWorker, type RunningWorker } from './support.js';

// Random bytes on a raw socket to the Worker in workerd, for a bounded time: alone, after a request line, or as
// the body of a well-formed request (test/reliability/random-bytes.test.ts sends the same to the sink). The
// Worker may not crash or hang, keeps nothing (nothing random carries a valid signature), and after every run
// answers a good request.

const RUNS = 400;
const TIME_LIMIT_MS = 8_000;
const AUTH = { user: 'relay-user', pass: 'random-bytes-pass' };

let built: Awaited<ReturnType<typeof buildWorkerOnce>>;
let sink: StubSink;
let worker: RunningWorker;

beforeAll(async () => {
  built = await buildWorkerOnce();
  sink = await startStubSink(AUTH);
  worker = await startWorker(built.scriptPath, {
    UP42_WEBHOOK_SECRET: 'random-bytes-secret',
    SINK_URL: sink.url,
    SINK_BASIC_AUTH_USER: AUTH.user,
    SINK_BASIC_AUTH_PASS: AUTH.pass,
    FORWARD_MAX_ATTEMPTS: '1',
    FORWARD_DEADLINE_MS: '2000',
  });
});
afterAll(async () => {
  await worker?.close();
  await sink?.close();
  await built?.cleanup();
});

describe('random bytes to the Worker', () => {
  it(
    `${RUNS} runs or ${TIME_LIMIT_MS / 1000} s: no crash, no hang, nothing kept, the next good request answered`,
    async () => {
      const port = Number(new URL(worker.url).port);
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(randomInput, async (data) => {
          runs += 1;
          const reply = await rawExchange(port, [{ hex: data.toString('hex') }], { endWrite: true, waitMs: 2_500 });
          // Half-closed by us, the Worker must finish: answer and close, or just close. Never leave us waiting.
          expect(reply.ended).toBe('closed');
          expect(reply.statuses.filter((s) => s === 200)).toEqual([]);
          const good = await fetch(worker.url, { method: 'POST', body: '{}' });
          expect(good.status).toBe(401);
          await good.text();
        }),
        { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
      );
      expect(runs).toBeGreaterThan(10);
      expect(await outbox(worker.url, AUTH)).toMatchObject({ waiting: 0, failed: 0, delivered: 0 });
      expect(sink.requests.filter((r) => r.path === '/receive-webhooks')).toEqual([]);
    },
    TIME_LIMIT_MS + 20_000,
  );
});
