import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { deliver } from './deliveries.js';
import { buildSteps, startWorkflow, type BuiltSteps, type WorkflowRun } from './pipedream-standin.js';
import { startStubSink, type StubSink } from './stub-sink.js';
import { checkRun, payloadsOf, SECRET, VALIDATION_CASES } from './validation-table.js';

// The validation table every host answers alike, here on the built Pipedream steps, run by the stand-in for
// Pipedream's runtime with each case's variables as the workflow's environment (test/worker/validation.test.ts
// runs it on the Worker).

const AUTH = { user: 'relay-user', pass: 'sink-pass-Hn4v-TOPSECRET' };
const seen: string[] = [];
let sink: StubSink;
let built: BuiltSteps;

beforeAll(async () => {
  [sink, built] = await Promise.all([startStubSink(AUTH), buildSteps()]);
});

afterAll(async () => {
  await sink?.close();
  await built?.cleanup();
  for (const text of seen) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(AUTH.pass);
  }
});

describe('the shared validation table, on the built Pipedream steps', () => {
  it.each(VALIDATION_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const env = {
      UP42_WEBHOOK_SECRET: SECRET,
      SINK_URL: sink.url,
      SINK_BASIC_AUTH_USER: AUTH.user,
      SINK_BASIC_AUTH_PASS: AUTH.pass,
      ...c.env,
    };
    const workflow = await startWorkflow(built, env);
    const storedBefore = sink.stored.size;
    const forwarded: string[] = [];
    try {
      const payloads = payloadsOf(c.sends);
      for (const [i, send] of c.sends.entries()) {
        const payload = payloads[i]!;
        const answer = await deliver(workflow.url, payload, send.options());
        seen.push(answer.text);
        checkRun(answer.json as unknown as WorkflowRun, send);
        if (send.expect.status === 200) forwarded.push(payload.messageId);
      }
    } finally {
      await workflow.close();
      seen.push(workflow.output());
    }
    // What forwarded reached the sink, a replay stored once; nothing else did.
    expect(sink.stored.size - storedBefore).toBe(new Set(forwarded).size);
    for (const messageId of forwarded) expect(sink.stored.has(messageId)).toBe(true);
  });
});
