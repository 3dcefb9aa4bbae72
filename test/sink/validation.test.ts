import { afterAll, describe, expect, it } from '@jest/globals';
import { parseValidateConfig } from '../../shared/config.js';
import { deliver } from '../forwarder/deliveries.js';
import { payloadsOf, SECRET, VALIDATION_CASES, type ValidationSend } from '../forwarder/validation-table.js';
import { call, dumpLines, startTestSink } from './sink-support.js';

// The validation table every host answers alike, here on the sink itself in direct mode: UP42_WEBHOOK_SECRET set
// on the sink, UP42's deliveries posted to it without credentials (test/forwarder/validation-table.test.ts runs it
// on the Pipedream steps, test/worker/validation.test.ts on the Worker).

const AUTH = { user: 'relay-user', pass: 'sink-pass-Hn4v-TOPSECRET' };
const authorization = `Basic ${Buffer.from(`${AUTH.user}:${AUTH.pass}`).toString('base64')}`;
const seen: string[] = [];

afterAll(() => {
  for (const text of seen) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(AUTH.pass);
  }
});

/** The sink's answer to one send, as every host's must be: 200 stored, 202 ignored with why, 401 with the reason. */
function checkSinkAnswer(answer: { status: number; text: string; headers: Headers }, send: ValidationSend) {
  expect({ status: answer.status, text: answer.text }).toMatchObject({ status: send.expect.status });
  const msg = String((JSON.parse(answer.text) as { msg?: unknown }).msg);
  if (send.expect.status === 401 && send.expect.reason === 'missing-signature') {
    // Without a signature a request is no delivery of UP42's: it meets basic auth, as any other.
    expect([msg, answer.headers.get('www-authenticate')]).toEqual(['unauthorized', expect.stringMatching(/^Basic/)]);
  } else if (send.expect.status === 401) {
    expect(answer.headers.get('x-signature-rejected')).toBe(send.expect.reason);
    expect(msg).toContain(`signature rejected (${send.expect.reason})`);
    expect(msg).toMatch(send.expect.says!);
  } else if (send.expect.status === 202) {
    expect(msg).toMatch(send.expect.says!);
  } else {
    expect(msg).toMatch(/^value with key \d+ (already )?stored$/);
  }
}

describe('the shared validation table, on the sink in direct mode', () => {
  it.each(VALIDATION_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const up42 = parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, ...c.env });
    if (!up42.ok) throw new Error(up42.message);
    const sink = await startTestSink({ store: 'memory', auth: AUTH, up42: up42.value });
    try {
      const stored: string[] = [];
      const payloads = payloadsOf(c.sends);
      for (const [i, send] of c.sends.entries()) {
        const answer = await deliver(`${sink.url}/receive-webhooks`, payloads[i], send.options());
        seen.push(answer.text);
        checkSinkAnswer(answer, send);
        if (send.expect.status === 200) stored.push(payloads[i]!.messageId);
      }
      // What was answered 200 is stored, a replay once; nothing else is.
      const dump = await call(sink.url, '/dump-webhooks', { headers: { authorization } });
      const ids = dumpLines(dump.text).lines.map((l) => (JSON.parse(l) as { messageId: string }).messageId);
      expect(ids).toEqual([...new Set(stored)]);
    } finally {
      await sink.close();
    }
  });
});
