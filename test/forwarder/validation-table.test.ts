import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startRunner } from '../../forwarder/runner/server.js';
import { deliver } from './deliveries.js';
import { startStubSink, type StubSink } from './stub-sink.js';
import { checkAnswer, payloadOf, SECRET, VALIDATION_CASES } from './validation-table.js';

// The validation table every host answers alike, here on the local runner, which runs the Pipedream steps of
// pipedream.yaml (test/worker/validation.test.ts runs it on the Worker).

const AUTH = { user: 'relay-user', pass: 'sink-pass-Hn4v-TOPSECRET' };
const seen: string[] = [];
let sink: StubSink;

beforeAll(async () => {
  sink = await startStubSink(AUTH);
});

afterAll(async () => {
  await sink.close();
  for (const text of seen) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(AUTH.pass);
  }
});

describe('the shared validation table, on the local runner (the Pipedream steps)', () => {
  it.each(VALIDATION_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const env = {
      UP42_WEBHOOK_SECRET: SECRET,
      SINK_URL: sink.url,
      SINK_BASIC_AUTH_USER: AUTH.user,
      SINK_BASIC_AUTH_PASS: AUTH.pass,
      ...c.env,
    };
    const runner = await startRunner({ host: '127.0.0.1', port: 0 }, env, { log: (line) => seen.push(line) });
    const storedBefore = sink.stored.size;
    const forwarded: string[] = [];
    try {
      for (const send of c.sends) {
        const payload = payloadOf(send);
        const answer = await deliver(runner.url, payload, send.options());
        seen.push(answer.text);
        checkAnswer(answer, send, 'forwarded');
        if (send.expect.status === 200) forwarded.push(payload.messageId);
      }
    } finally {
      await runner.close();
    }
    // What was answered 200 reached the sink; nothing else did.
    expect(sink.stored.size - storedBefore).toBe(forwarded.length);
    for (const messageId of forwarded) expect(sink.stored.has(messageId)).toBe(true);
  });
});
