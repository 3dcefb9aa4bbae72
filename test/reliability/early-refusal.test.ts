import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestSink, type TestSink } from '../sink/sink-support.js';
import { unread413s } from './send-then-read.js';

// A client that sends its whole body before reading (no `Expect: 100-continue`: Python's urllib, a raw
// socket) must read the early refusal rather than a broken pipe: the sink reads and discards the rest of the
// body before it closes (a lingering close). test/worker/early-refusal.test.ts checks the same of the Worker.

const TRIES = 50;

let sink: TestSink;

beforeAll(async () => {
  sink = await startTestSink({ store: 'memory', maxBodyBytes: 1024 * 1024 });
});
afterAll(async () => {
  await sink.close();
});

describe('a 2 MiB body to the sink', () => {
  it(`reads 413 in ${TRIES} of ${TRIES} tries`, async () => {
    expect(await unread413s(sink.url, '/receive-webhooks', TRIES)).toEqual([]);
  }, 60_000);
});
