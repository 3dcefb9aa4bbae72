import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { buildWorkerOnce, startWorker, until, type RunningWorker } from '../worker/support.js';
import { event, nowSeconds } from './deliveries.js';
import { buildSteps, startWorkflow, type BuiltSteps, type WorkflowRun } from './pipedream-standin.js';
import { startStubSink, type StubSink } from './stub-sink.js';

/*
 * Forgeries built from one captured delivery, sent over HTTP to each host: the Worker in workerd, and the built
 * Pipedream steps through the stand-in for Pipedream's runtime (where each step's summary is checked too).
 * UP42's signed string is the listed header values run together, and `created` is not signed, so a captured
 * signature can be moved onto made-up headers, a fresh `created` and another body: each must be refused before
 * anything reaches the sink. The forged MACs are computed here with node's HMAC, never by the code under test.
 */

const SECRET = 'forgery-whsec-Lk93-TOPSECRET';
const USER = 'relay-user';
const PASS = 'forgery-pass-Qw7e-TOPSECRET';

let sink: StubSink;
let steps: BuiltSteps;
let worker: RunningWorker;
let builtWorker: Awaited<ReturnType<typeof buildWorkerOnce>>;
beforeAll(async () => {
  [sink, steps, builtWorker] = await Promise.all([
    startStubSink({ user: USER, pass: PASS }),
    buildSteps(),
    buildWorkerOnce(),
  ]);
  worker = await startWorker(builtWorker.scriptPath, env());
});
afterAll(async () => {
  await worker?.close();
  await builtWorker?.cleanup();
  await steps?.cleanup();
  await sink?.close();
});
let before = 0;
beforeEach(() => {
  before = sink.requests.length;
});
/** What reached the sink during this test, and the webhooks it received. */
const reached = () => sink.requests.slice(before);
const received = () => reached().filter((r) => r.path === '/receive-webhooks');

const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  UP42_WEBHOOK_SECRET: SECRET,
  SINK_URL: sink.url,
  SINK_BASIC_AUTH_USER: USER,
  SINK_BASIC_AUTH_PASS: PASS,
  FORWARD_MAX_ATTEMPTS: '1',
  FORWARD_DEADLINE_MS: '4000',
  ...extra,
});

/** A host's answer, the same on both: the status (as the table in validation-table.ts maps a Pipedream run). */
interface Answer {
  status: number;
  reason?: string;
  message?: string;
  /** The validate step's summary and signature export (Pipedream only). */
  validate?: Record<string, unknown>;
}

type Post = (headers: Record<string, string>, body: string) => Promise<Answer>;
type Host = 'Worker' | 'Pipedream';
const HOSTS: Host[] = ['Worker', 'Pipedream'];

function fromRun(run: WorkflowRun): Answer {
  const validate = run.steps.validate;
  if (run.error) return { status: 401, reason: run.error.reason, message: run.error.message, validate };
  if (run.exit) return { status: 202, reason: run.exit.reason ?? undefined, validate };
  return { status: 200, validate };
}

async function withHost(host: Host, hostEnv: Record<string, string>, fn: (post: Post) => Promise<void>) {
  if (host === 'Worker') {
    await worker.reconfigure(hostEnv);
    await fn(async (headers, body) => {
      const response = await fetch(worker.url, { method: 'POST', headers, body });
      const json = (await response.json()) as { reason?: string; message?: string };
      return { status: response.status, reason: json.reason, message: json.message };
    });
    return;
  }
  const workflow = await startWorkflow(steps, hostEnv);
  try {
    await fn(async (headers, body) => {
      const response = await fetch(workflow.url, { method: 'POST', headers, body });
      return fromRun((await response.json()) as WorkflowRun);
    });
  } finally {
    await workflow.close();
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

function expectRefused(answer: Answer, missing: RegExp) {
  expect(answer).toMatchObject({ status: 401, reason: 'weak-signature' });
  expect(String(answer.message)).toMatch(missing);
  if (answer.validate) expect(answer.validate.$summary).toBe('signature rejected: weak-signature');
  expect(reached()).toHaveLength(0);
}

describe.each(HOSTS)('%s: a captured signature cannot be reused', (host) => {
  it('the captured delivery itself is refused as stale ten minutes later', async () => {
    await withHost(host, env(), async (post) => {
      const { body, headers } = captured();
      const answer = await post(headers, body);
      expect(answer).toMatchObject({ status: 401, reason: 'stale' });
      expect(reached()).toHaveLength(0);
    });
  });

  it('its signed string moved into a made-up header, a fresh created, another body: 401 weak-signature', async () => {
    await withHost(host, env(), async (post) => {
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
      expectRefused(answer, /no content-digest or digest header, so it does not bind the body/);
    });
  });

  it('split over content-type and a made-up header: 401 weak-signature', async () => {
    await withHost(host, env(), async (post) => {
      const { signature, signedString } = captured();
      const forged = {
        'content-type': 'application/json',
        'x-rest': signedString.slice('application/json'.length),
        signature,
        'signature-input': input(['content-type', 'x-rest']),
      };
      expectRefused(
        await post(forged, forgedBody()),
        /no content-digest or digest header, so it does not bind the body/,
      );
    });
  });

  it('a signature over content-type alone, with any body: 401 weak-signature', async () => {
    await withHost(host, env(), async (post) => {
      const forged = {
        'content-type': 'application/json',
        signature: `up42-sig=${hmac('application/json')}`,
        'signature-input': input(['content-type']),
      };
      expectRefused(
        await post(forged, forgedBody()),
        /no content-digest or digest header, so it does not bind the body/,
      );
      expectRefused(await post(forged, '{"anything": true}'), /content-digest or digest header/);
    });
  });

  it('test mode skips the time window but refuses a weak signature all the same', async () => {
    await withHost(host, env({ UP42_TEST_MODE: 'yes' }), async (post) => {
      const { signature, signedString } = captured();
      const forged = {
        'content-type': 'application/json',
        'x-sig': signedString,
        signature,
        'signature-input': input(['x-sig']),
      };
      expectRefused(
        await post(forged, forgedBody()),
        /no content-digest or digest header, so it does not bind the body/,
      );
      // The captured delivery itself, unchanged, is still good in test mode: it is strong.
      const { body, headers: original } = captured();
      expect((await post(original, body)).status).toBe(200);
      await until('its delivery', async () => received().length === 1);
    });
  });
});

describe.each(HOSTS)('%s: UP42_ACCEPT_WEAK_SIGNATURES=yes', (host) => {
  it('forwards a weak signature, and every summary warns', async () => {
    await withHost(host, env({ UP42_ACCEPT_WEAK_SIGNATURES: 'yes' }), async (post) => {
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
        if (!answer.validate) continue;
        const weakness =
          'the signature covers "content-type", "date" and no content-digest or digest header, so it does not bind ' +
          'the body: anyone who has seen one signed delivery can send any body under its signature';
        const warning = `WEAK SIGNATURE accepted: ${weakness}; UP42_ACCEPT_WEAK_SIGNATURES=yes`;
        expect(answer.validate.$summary).toBe(`job.status ${status} (live) verified (${warning})`);
        expect(answer.validate.signature).toMatchObject({ weak: true, digestChecked: false, weaknesses: [weakness] });
      }
      await until('both deliveries', async () => received().length === 2);
    });
  });

  it('still refuses a wrong MAC and a body that does not match a signed digest', async () => {
    await withHost(host, env({ UP42_ACCEPT_WEAK_SIGNATURES: 'yes' }), async (post) => {
      const wrong = {
        'content-type': 'application/json',
        signature: `up42-sig=${hmac('application/jsonX')}`,
        'signature-input': input(['content-type']),
      };
      expect((await post(wrong, forgedBody())).reason).toBe('mac-mismatch');
      const digest = `sha-256=:${createHash('sha256').update('{}').digest('base64')}:`;
      const altered = {
        'content-type': 'application/json',
        'content-digest': digest,
        signature: `up42-sig=${hmac(`application/json${digest}`)}`,
        'signature-input': input(['content-type', 'content-digest']),
      };
      expect((await post(altered, forgedBody())).reason).toBe('digest-mismatch');
      expect(reached()).toHaveLength(0);
    });
  });

  it('a strong signature carries no warning', async () => {
    await withHost(host, env({ UP42_ACCEPT_WEAK_SIGNATURES: 'yes' }), async (post) => {
      const body = JSON.stringify(event({ status: 'FAILED' }));
      const headers = signedDeliveryHeaders({ body, secret: SECRET, created: nowSeconds() });
      const answer = await post(headers, body);
      expect(answer.status).toBe(200);
      if (answer.validate) {
        expect(answer.validate.$summary).toBe('job.status FAILED (live) verified');
        expect(answer.validate.signature).toMatchObject({ weak: false, weaknesses: [] });
      }
      await until('its delivery', async () => received().length === 1);
    });
  });
});
