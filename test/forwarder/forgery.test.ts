import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { startRunner } from '../../forwarder/runner/server.js';
import type { RunResult } from '../../forwarder/runner/workflow.js';
import type { Env } from '../../shared/env.js';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { event, nowSeconds } from './deliveries.js';
import { startStubSink, type StubSink } from './stub-sink.js';

/*
 * Forgeries built from one captured delivery, sent to the local runner over HTTP. UP42's signed string is the
 * listed header values run together, and `created` is not signed, so a captured signature can be moved onto
 * made-up headers, a fresh `created` and another body: each must be refused before anything reaches the sink.
 * The forged MACs are computed here with node's HMAC, never by the code under test.
 */

const SECRET = 'forgery-whsec-Lk93-TOPSECRET';
const USER = 'relay-user';
const PASS = 'forgery-pass-Qw7e-TOPSECRET';

let sink: StubSink;
beforeEach(async () => {
  sink = await startStubSink({ user: USER, pass: PASS });
});
afterEach(async () => {
  await sink.close();
});

const env = (extra: Record<string, string> = {}): Env => ({
  UP42_WEBHOOK_SECRET: SECRET,
  SINK_URL: sink.url,
  SINK_BASIC_AUTH_USER: USER,
  SINK_BASIC_AUTH_PASS: PASS,
  FORWARD_MAX_ATTEMPTS: '1',
  FORWARD_DEADLINE_MS: '4000',
  ...extra,
});

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

type Post = (headers: Record<string, string>, body: string) => Promise<Answer>;

async function withRunner(runnerEnv: Env, fn: (post: Post, runs: RunResult[]) => Promise<void>) {
  const runs: RunResult[] = [];
  const options = { log: () => {}, onRun: (run: RunResult) => runs.push(run) };
  const runner = await startRunner({ host: '127.0.0.1', port: 0 }, runnerEnv, options);
  const post: Post = async (headers, body) => {
    const response = await fetch(runner.url, { method: 'POST', headers, body });
    const text = await response.text();
    return { status: response.status, json: JSON.parse(text) as Record<string, unknown> };
  };
  try {
    await fn(post, runs);
  } finally {
    await runner.close();
  }
}

const hmac = (message: string) => createHmac('sha256', SECRET).update(message, 'utf8').digest('base64');

/** A delivery signed ten minutes ago, as someone who saw it in an event history or a proxy log holds it. */
function captured() {
  const body = JSON.stringify(event({ status: 'FAILED' }));
  const headers = signedDeliveryHeaders({ body, secret: SECRET, created: nowSeconds() - 600 });
  const signedString = `${headers['content-type']}${headers.date}${headers['content-digest']}`;
  return { body, headers, signedString, signature: headers.signature! };
}

/** Another body, one the captured signature never covered. */
const forgedBody = () => JSON.stringify(event({ status: 'SUCCEEDED', messageId: `forged-${nowSeconds()}` }));

/** A signature-input over `components`, created now. */
const input = (components: string[]) =>
  `up42-sig=(${components.map((c) => `"${c}"`).join(' ')});created=${nowSeconds()}`;

function expectRefused(answer: Answer, runs: RunResult[], missing: RegExp) {
  expect(answer.status).toBe(401);
  expect(answer.json).toMatchObject({ outcome: 'rejected', reason: 'weak-signature' });
  expect(String(answer.json.message)).toMatch(missing);
  expect(runs.at(-1)!.steps.validate!.$summary).toBe('signature rejected: weak-signature');
  expect(sink.requests).toHaveLength(0);
}

describe('a captured signature cannot be reused', () => {
  it('the captured delivery itself is refused as stale ten minutes later', async () => {
    await withRunner(env(), async (post) => {
      const { body, headers } = captured();
      const answer = await post(headers, body);
      expect(answer.status).toBe(401);
      expect(answer.json.reason).toBe('stale');
      expect(sink.requests).toHaveLength(0);
    });
  });

  it('its signed string moved into a made-up header, a fresh created, another body: 401 weak-signature', async () => {
    await withRunner(env(), async (post, runs) => {
      const { signature, signedString } = captured();
      // The MAC of the moved string is the captured one: only the rule on what must be signed can refuse it.
      expect(signature).toBe(`up42-sig=${hmac(signedString)}`);
      const forged = {
        'content-type': 'application/json',
        'x-sig': signedString,
        signature,
        'signature-input': input(['x-sig']),
      };
      const answer = await post(forged, forgedBody());
      expectRefused(answer, runs, /no content-digest or digest header, so it does not bind the body/);
    });
  });

  it('split over content-type and a made-up header: 401 weak-signature', async () => {
    await withRunner(env(), async (post, runs) => {
      const { signature, signedString } = captured();
      const forged = {
        'content-type': 'application/json',
        'x-rest': signedString.slice('application/json'.length),
        signature,
        'signature-input': input(['content-type', 'x-rest']),
      };
      expectRefused(
        await post(forged, forgedBody()),
        runs,
        /no content-digest or digest header, so it does not bind the body/,
      );
    });
  });

  it('a signature over content-type alone, with any body: 401 weak-signature', async () => {
    await withRunner(env(), async (post, runs) => {
      const forged = {
        'content-type': 'application/json',
        signature: `up42-sig=${hmac('application/json')}`,
        'signature-input': input(['content-type']),
      };
      expectRefused(
        await post(forged, forgedBody()),
        runs,
        /no content-digest or digest header, so it does not bind the body/,
      );
      expectRefused(await post(forged, '{"anything": true}'), runs, /content-digest or digest header/);
    });
  });

  it('test mode skips the time window but refuses a weak signature all the same', async () => {
    await withRunner(env({ UP42_TEST_MODE: 'yes' }), async (post, runs) => {
      const { signature, signedString } = captured();
      const forged = {
        'content-type': 'application/json',
        'x-sig': signedString,
        signature,
        'signature-input': input(['x-sig']),
      };
      expectRefused(
        await post(forged, forgedBody()),
        runs,
        /no content-digest or digest header, so it does not bind the body/,
      );
      // The captured delivery itself, unchanged, is still good in test mode: it is strong.
      const { body, headers: original } = captured();
      expect((await post(original, body)).status).toBe(200);
    });
  });
});

describe('UP42_ACCEPT_WEAK_SIGNATURES=yes', () => {
  it('forwards a weak signature, and every summary warns', async () => {
    await withRunner(env({ UP42_ACCEPT_WEAK_SIGNATURES: 'yes' }), async (post, runs) => {
      for (const status of ['FAILED', 'SUCCEEDED']) {
        const body = JSON.stringify(event({ status }));
        const date = new Date().toUTCString();
        const headers = {
          'content-type': 'application/json',
          date,
          signature: `up42-sig=${hmac(`application/json${date}`)}`,
          'signature-input': input(['content-type', 'date']),
        };
        const answer = await post(headers, body);
        expect(answer.status).toBe(200);
        const validate = runs.at(-1)!.steps.validate!;
        const weakness =
          'the signature covers "content-type", "date" and no content-digest or digest header, so it does not bind ' +
          'the body: anyone who has seen one signed delivery can send any body under its signature';
        const warning = `WEAK SIGNATURE accepted: ${weakness}; UP42_ACCEPT_WEAK_SIGNATURES=yes`;
        expect(validate.$summary).toBe(`job.status ${status} (live) verified (${warning})`);
        expect(validate.signature).toMatchObject({ weak: true, digestChecked: false, weaknesses: [weakness] });
      }
      expect(sink.stored.size).toBe(2);
    });
  });

  it('still refuses a wrong MAC and a body that does not match a signed digest', async () => {
    await withRunner(env({ UP42_ACCEPT_WEAK_SIGNATURES: 'yes' }), async (post) => {
      const wrong = {
        'content-type': 'application/json',
        signature: `up42-sig=${hmac('application/jsonX')}`,
        'signature-input': input(['content-type']),
      };
      expect((await post(wrong, forgedBody())).json.reason).toBe('mac-mismatch');
      const digest = `sha-256=:${createHash('sha256').update('{}').digest('base64')}:`;
      const altered = {
        'content-type': 'application/json',
        'content-digest': digest,
        signature: `up42-sig=${hmac(`application/json${digest}`)}`,
        'signature-input': input(['content-type', 'content-digest']),
      };
      expect((await post(altered, forgedBody())).json.reason).toBe('digest-mismatch');
      expect(sink.requests).toHaveLength(0);
    });
  });

  it('a strong signature carries no warning', async () => {
    await withRunner(env({ UP42_ACCEPT_WEAK_SIGNATURES: 'yes' }), async (post, runs) => {
      const body = JSON.stringify(event({ status: 'FAILED' }));
      const headers = signedDeliveryHeaders({ body, secret: SECRET, created: nowSeconds() });
      expect((await post(headers, body)).status).toBe(200);
      expect(runs[0]!.steps.validate!.$summary).toBe('job.status FAILED (live) verified');
      expect(runs[0]!.steps.validate!.signature).toMatchObject({ weak: false, weaknesses: [] });
    });
  });
});
