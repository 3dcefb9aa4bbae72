import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { startRunner, type RunningRunner } from '../../forwarder/runner/server.js';
import { startTestSink, type TestSink } from '../sink/sink-support.js';

// A client that sends its whole body before reading (no `Expect: 100-continue`: Python's urllib, a raw
// socket) must read the early refusal rather than a broken pipe: the servers read and discard the rest of the
// body before they close (a lingering close).

const TRIES = 50;
const BODY = 2 * 1024 * 1024;

let sink: TestSink;
let runner: RunningRunner;

beforeAll(async () => {
  sink = await startTestSink({ store: 'memory', maxBodyBytes: 1024 * 1024 });
  const env = { UP42_WEBHOOK_SECRET: 'early-refusal', SINK_URL: sink.url };
  runner = await startRunner({ host: '127.0.0.1', port: 0 }, env, { log: () => undefined });
});
afterAll(async () => {
  await runner.close();
  await sink.close();
});

/**
 * Sends headers and a 2 MiB body in 64 KiB writes, one after the other, and reads only once all is sent (as
 * Python's urllib does: sendall, then read): a server that closes while bytes are still coming makes the
 * writes fail with a broken pipe and the answer is never read.
 */
function sendThenRead(url: string, path: string): Promise<{ answer: string; error: string | null }> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    let answer = '';
    let error: string | null = null;
    socket.pause();
    socket.setEncoding('latin1').on('data', (d: string) => (answer += d));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on('close', () => resolve({ answer, error }));
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${BODY}\r\n\r\n`,
    );
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const next = () => {
      if (sent >= BODY) {
        socket.resume();
        return;
      }
      sent += chunk.length;
      // The next write waits for the event loop to turn, so the server reads (and may answer) meanwhile.
      socket.write(chunk, (err) => {
        if (!err) setImmediate(next);
      });
    };
    next();
  });
}

describe.each(['sink', 'runner'] as const)('a 2 MiB body to the %s', (target) => {
  it(`reads 413 in ${TRIES} of ${TRIES} tries`, async () => {
    const url = target === 'sink' ? sink.url : runner.url;
    const path = target === 'sink' ? '/receive-webhooks' : '/';
    const failures: string[] = [];
    for (let i = 0; i < TRIES; i += 1) {
      const { answer, error } = await sendThenRead(url, path);
      if (answer.startsWith('HTTP/1.1 413 ')) continue;
      failures.push(`try ${i + 1}: ${error ?? 'no error'}, read ${JSON.stringify(answer.slice(0, 40))}`);
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
