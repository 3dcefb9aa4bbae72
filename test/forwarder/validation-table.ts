import { expect } from '@jest/globals';
import type { Up42EventType } from '../../shared/events.js';
import { deliver, event, nowSeconds } from './deliveries.js';
import type { WorkflowRun } from './pipedream-standin.js';

/**
 * One table of validation cases for every host of the forwarder (the built Pipedream steps through the
 * stand-in for Pipedream's runtime, the Cloudflare Worker): the same signed deliveries must get the same answer
 * everywhere. Each host's test runs a case by starting its host with `env` on top of its own base settings
 * (UP42_WEBHOOK_SECRET = SECRET, a sink), POSTing each of `sends` as built, and checking the outcome; `status` is
 * the Worker's answer, and on Pipedream 200 is a run that forwarded, 202 a validate step that ended the workflow
 * with `$.flow.exit`, 401 a validate step that threw. A 200 means the delivery reaches the sink (at once on
 * Pipedream, through the outbox on the Worker), any other outcome that nothing does.
 */

export const SECRET = 'up42-whsec-7Qe2-TOPSECRET';
export const OLD_SECRET = 'up42-whsec-old-Pz81-TOPSECRET';

export interface ValidationSend {
  event?: { event?: Up42EventType; status?: string; liveMode?: boolean };
  /** The same delivery as the send at this index, sent again (a replay): the same body, so the same messageId. */
  replayOf?: number;
  /** Built when sent, so times are current. */
  options: () => Parameters<typeof deliver>[2];
  expect: {
    status: 200 | 202 | 401;
    /** 401: the exact reason. */
    reason?: string;
    /** 202: words the reason contains; 401: what the message says. */
    says?: RegExp;
  };
}

export interface ValidationCase {
  name: string;
  env: Record<string, string>;
  sends: ValidationSend[];
}

const signed = () => ({ secret: SECRET });
const ok = { status: 200 } as const;
const rejected = (reason: string, says: RegExp) => ({ status: 401, reason, says }) as const;

export const VALIDATION_CASES: ValidationCase[] = [
  {
    name: 'a live FAILED job is notified',
    env: {},
    sends: [{ event: { status: 'FAILED' }, options: signed, expect: ok }],
  },
  ...['FAILED_PERMANENTLY', 'FAILED PERMANENTLY', 'failed_permanently'].map((status) => ({
    name: `an order ${status} is notified as FAILED_PERMANENTLY`,
    env: {},
    sends: [{ event: { event: 'order.status' as const, status }, options: signed, expect: ok }],
  })),
  ...['RUNNING', 'PENDING', 'BEING_FULFILLED'].map((status) => ({
    name: `${status} is ignored with the reason`,
    env: {},
    sends: [
      {
        event: { status },
        options: signed,
        expect: { status: 202 as const, says: new RegExp(`status ${status} is not in the notify list`) },
      },
    ],
  })),
  {
    name: 'a test event is ignored when test mode is off',
    env: {},
    sends: [
      { event: { liveMode: false, status: 'SUCCEEDED' }, options: signed, expect: { status: 202, says: /test event/ } },
    ],
  },
  {
    name: 'UP42_NOTIFY_STATUSES chooses the statuses',
    env: { UP42_NOTIFY_STATUSES: 'running' },
    sends: [
      { event: { status: 'RUNNING' }, options: signed, expect: ok },
      {
        event: { status: 'FAILED' },
        options: signed,
        expect: { status: 202, says: /status FAILED is not in the notify list/ },
      },
    ],
  },
  ...[
    ['UP42_TEST_MODE', { UP42_TEST_MODE: 'yes' }],
    ['its alias is_test', { is_test: 'yes' }],
  ].map(([name, env]) => ({
    name: `test mode (${String(name)}) notifies test events and any status, and skips the time window`,
    env: env as Record<string, string>,
    sends: [
      { event: { liveMode: false, status: 'SUCCEEDED' }, options: signed, expect: ok },
      { event: { status: 'RUNNING' }, options: signed, expect: ok },
      { options: () => ({ secret: SECRET, created: nowSeconds() - 3600 }), expect: ok },
      { options: () => ({ secret: SECRET, created: nowSeconds() + 3600 }), expect: ok },
    ],
  })),
  {
    name: 'test mode never skips the MAC',
    env: { UP42_TEST_MODE: 'yes' },
    sends: [{ options: () => ({ secret: 'not-the-secret' }), expect: rejected('mac-mismatch', /does not match/) }],
  },
  {
    name: 'the previous secret is accepted while a new one is rolled out',
    env: { UP42_WEBHOOK_SECRET_PREVIOUS: OLD_SECRET },
    sends: [
      { options: () => ({ secret: OLD_SECRET }), expect: ok },
      { options: signed, expect: ok },
    ],
  },
  {
    name: 'a signature that covers no body digest is refused as weak, naming what it covered',
    env: {},
    sends: [
      {
        options: () => ({ secret: SECRET, components: ['content-type'] }),
        expect: rejected(
          'weak-signature',
          /covers "content-type" and no content-digest or digest header.*any body.*UP42_ACCEPT_WEAK_SIGNATURES=yes/,
        ),
      },
      {
        options: () => ({ secret: SECRET, components: ['content-type', 'date'] }),
        expect: rejected('weak-signature', /covers "content-type", "date" and no content-digest or digest header/),
      },
    ],
  },
  {
    name: 'a signature over the body digest without a date is accepted, and a replay of it is stored once',
    env: {},
    sends: [
      { options: () => ({ secret: SECRET, components: ['content-type', 'content-digest'] }), expect: ok },
      { replayOf: 0, options: () => ({ secret: SECRET, components: ['content-type', 'content-digest'] }), expect: ok },
    ],
  },
  {
    name: 'UP42_ACCEPT_WEAK_SIGNATURES=yes accepts a weak signature, the MAC still checked',
    env: { UP42_ACCEPT_WEAK_SIGNATURES: 'yes' },
    sends: [
      { options: () => ({ secret: SECRET, components: ['content-type'] }), expect: ok },
      {
        options: () => ({ secret: 'another-secret', components: ['content-type'] }),
        expect: rejected('mac-mismatch', /does not match/),
      },
    ],
  },
  {
    name: 'signatures that are rejected, each with its reason',
    env: {},
    sends: [
      { options: () => ({}), expect: rejected('missing-signature', /no signature header/) },
      { options: () => ({ secret: 'another-secret' }), expect: rejected('mac-mismatch', /does not match/) },
      {
        options: () => ({ secret: SECRET, created: nowSeconds() - 400 }),
        expect: rejected('stale', /created \d+ s ago/),
      },
      { options: () => ({ secret: SECRET, created: nowSeconds() + 120 }), expect: rejected('future', /in the future/) },
      {
        options: () => ({ secret: SECRET, tamper: (r) => (r.body = r.body.replace('"FAILED"', '"SUCCEEDED"')) }),
        expect: rejected('digest-mismatch', /does not match its signed content-digest/),
      },
      {
        options: () => ({ secret: SECRET, tamper: (r) => delete r.headers['signature-input'] }),
        expect: rejected('missing-signature-input', /no signature-input header/),
      },
      {
        options: () => ({ secret: SECRET, tamper: (r) => (r.headers.signature = 'garbage') }),
        expect: rejected('malformed-signature', /not of the form/),
      },
      {
        options: () => ({ secret: SECRET, tamper: (r) => (r.headers.date = new Date(0).toUTCString()) }),
        expect: rejected('mac-mismatch', /does not match/),
      },
      { options: signed, expect: ok },
    ],
  },
];

/** The payload of one send: a fresh event (its own messageId), FAILED and live unless the case says otherwise. */
export const payloadOf = (send: ValidationSend) => event(send.event ?? {});

/** The payloads of a case's sends, in order: a replay repeats the payload it replays. */
export function payloadsOf(sends: readonly ValidationSend[]): ReturnType<typeof payloadOf>[] {
  const payloads: ReturnType<typeof payloadOf>[] = [];
  for (const send of sends) payloads.push(send.replayOf === undefined ? payloadOf(send) : payloads[send.replayOf]!);
  return payloads;
}

/**
 * Checks a host's answer to one send, the same on every host: 401 with the reason and what it says, 202 ignored
 * with its reason, 200 with the outcome the host names a delivery it let through (`forwarded`, `kept`).
 */
export function checkAnswer(
  answer: { status: number; json: Record<string, unknown>; text: string },
  send: ValidationSend,
  passed: 'forwarded' | 'kept',
): void {
  expect({ status: answer.status, text: answer.text }).toMatchObject({ status: send.expect.status });
  if (send.expect.status === 401) {
    expect(answer.json).toMatchObject({ outcome: 'rejected', reason: send.expect.reason });
    expect(String(answer.json.message)).toContain(`signature rejected (${send.expect.reason})`);
    expect(String(answer.json.message)).toMatch(send.expect.says!);
  } else if (send.expect.status === 202) {
    expect(answer.json.outcome).toBe('ignored');
    expect(String(answer.json.reason)).toMatch(send.expect.says!);
  } else {
    // A replay is taken as well; the Worker says it holds it already and does not keep it again.
    expect(answer.json.outcome).toBe(send.replayOf !== undefined && passed === 'kept' ? 'duplicate' : passed);
  }
}

/** The same check on a run of the Pipedream steps: thrown, ended with `$.flow.exit`, or forwarded. */
export function checkRun(run: WorkflowRun, send: ValidationSend): void {
  if (send.expect.status === 401) {
    expect(run.error).toMatchObject({ step: 'validate', code: 'signature', reason: send.expect.reason });
    expect(run.error!.message).toContain(`signature rejected (${send.expect.reason})`);
    expect(run.error!.message).toMatch(send.expect.says!);
    expect(run.steps.validate!.$summary).toBe(`signature rejected: ${send.expect.reason}`);
  } else if (send.expect.status === 202) {
    expect({ error: run.error, step: run.exit?.step }).toEqual({ error: null, step: 'validate' });
    expect(String(run.exit!.reason)).toMatch(send.expect.says!);
  } else {
    expect({ error: run.error, exit: run.exit, reruns: run.reruns }).toEqual({ error: null, exit: null, reruns: [] });
    // A replay of what the sink holds is answered with its key: stored once.
    expect(run.steps.forward!.$summary).toMatch(
      send.replayOf === undefined ? /^stored as key \d+$/ : /^already stored as key \d+$/,
    );
  }
  if (send.expect.status !== 200) expect(run.steps.forward).toBeUndefined();
}
