import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startStubSink, type StubSink } from '../forwarder/stub-sink.js';
import { unread413s } from '../reliability/send-then-read.js';
import { buildWorkerOnce, startWorker, type RunningWorker } from './support.js';

// A client that sends its whole body before reading (no `Expect: 100-continue`: Python's urllib, a raw
// socket) must read the Worker's early refusal of a body over 1 MiB rather than a broken pipe.

const TRIES = 20;

let built: Awaited<ReturnType<typeof buildWorkerOnce>>;
let sink: StubSink;
let worker: RunningWorker;

beforeAll(async () => {
  built = await buildWorkerOnce();
  sink = await startStubSink(null);
  worker = await startWorker(built.scriptPath, { UP42_WEBHOOK_SECRET: 'early-refusal', SINK_URL: sink.url });
});
afterAll(async () => {
  await worker?.close();
  await sink?.close();
  await built?.cleanup();
});

describe('a 2 MiB body to the Worker', () => {
  it(`reads 413 in ${TRIES} of ${TRIES} tries, and nothing reaches the sink`, async () => {
    expect(await unread413s(worker.url, '/', TRIES)).toEqual([]);
    expect(sink.requests).toEqual([]);
  }, 60_000);
});
