import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  attemptTimeoutMs,
  backoffMs,
  forwardToSink,
  parseStoredReply,
  sinkMessage,
  type Clock,
  type SinkAnswer,
  type SinkRequest,
} from '../../forwarder/forward.js';
import { isStepError } from '../../forwarder/errors.js';
import { forwardStep } from '../../forwarder/forward-step.js';
import type { ForwardConfig } from '../../shared/config.js';

// The forward logic with a scripted transport and a fake clock: retries, backoff and the time budget.

const config = (overrides: Partial<ForwardConfig> = {}): ForwardConfig => ({
  sinkUrl: 'https://sink.example',
  auth: { user: 'u', pass: 'p' },
  maxAttempts: 4,
  deadlineMs: 25_000,
  parkDelaysSeconds: [60, 300],
  parkMaxHours: 72,
  ...overrides,
});

/** A clock that only moves when the code sleeps or a request "takes" time. */
function fakeClock(random = 0.5): Clock & { sleeps: number[]; advance(ms: number): void } {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    random: () => random,
    sleeps,
    advance: (ms) => {
      now += ms;
    },
  };
}

const pong: SinkAnswer = { kind: 'response', status: 200, text: 'PONG' };
const stored = (key: number): SinkAnswer => ({
  kind: 'response',
  status: 200,
  text: `{"msg": "value with key ${key} stored"}\n`,
});
const refused: SinkAnswer = { kind: 'network', timedOut: false, detail: 'connect ECONNREFUSED 127.0.0.1:9' };

/** Answers from a script per path; each request may also take `cost` ms of the fake clock. */
function scripted(
  clock: ReturnType<typeof fakeClock>,
  script: { ping: (SinkAnswer | 'timeout')[]; post: (SinkAnswer | 'timeout')[] },
) {
  const requests: SinkRequest[] = [];
  const transport = async (request: SinkRequest): Promise<SinkAnswer> => {
    requests.push(request);
    const next = (request.url.endsWith('/ping') ? script.ping : script.post).shift();
    if (next === undefined) throw new Error(`unscripted ${request.method} ${request.url}`);
    if (next === 'timeout') {
      clock.advance(request.timeoutMs);
      return { kind: 'network', timedOut: true, detail: `no answer within ${request.timeoutMs} ms` };
    }
    return next;
  };
  return { transport, requests };
}

describe('forwardToSink', () => {
  it('pings, then posts the body as JSON with the credentials', async () => {
    const clock = fakeClock();
    const { transport, requests } = scripted(clock, { ping: [pong], post: [stored(17)] });
    const result = await forwardToSink({ messageId: 'm' }, config(), transport, clock);
    expect(result).toEqual({
      ok: true,
      value: { key: 17, duplicate: false, reply: { msg: 'value with key 17 stored' }, attempts: { ping: 1, post: 1 } },
    });
    expect(requests.map((r) => [r.method, r.url])).toEqual([
      ['GET', 'https://sink.example/ping'],
      ['POST', 'https://sink.example/receive-webhooks'],
    ]);
    expect(requests[1]!.body).toBe('{"messageId":"m"}');
    expect(requests.every((r) => r.auth?.user === 'u' && r.auth.pass === 'p')).toBe(true);
    expect(clock.sleeps).toEqual([]);
  });

  it('backs off exponentially between retries', async () => {
    const clock = fakeClock(1);
    const { transport } = scripted(clock, { ping: [refused, refused, refused, pong], post: [stored(1)] });
    const result = await forwardToSink({}, config(), transport, clock);
    expect(result.ok).toBe(true);
    expect(clock.sleeps).toEqual([250, 500, 1000]);
  });

  it('gives up after maxAttempts', async () => {
    const clock = fakeClock();
    const { transport, requests } = scripted(clock, { ping: [pong], post: [refused, refused, refused] });
    const result = await forwardToSink({}, config({ maxAttempts: 3 }), transport, clock);
    expect(result).toMatchObject({ ok: false, reason: 'unreachable' });
    expect(requests).toHaveLength(4);
    expect(!result.ok && result.message).toBe(
      'the sink did not store the webhook at https://sink.example/receive-webhooks: connect ECONNREFUSED 127.0.0.1:9 (gave up after 3 attempts)',
    );
  });

  it('waits at least as long as Retry-After asks', async () => {
    const clock = fakeClock(0);
    const busy: SinkAnswer = { kind: 'response', status: 429, text: 'busy', retryAfter: '3' };
    const { transport } = scripted(clock, { ping: [pong], post: [busy, stored(2)] });
    expect((await forwardToSink({}, config(), transport, clock)).ok).toBe(true);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('does not sleep past the deadline: it fails instead', async () => {
    const clock = fakeClock();
    const busy: SinkAnswer = { kind: 'response', status: 429, text: 'busy', retryAfter: '60' };
    const { transport } = scripted(clock, { ping: [pong], post: [busy] });
    const result = await forwardToSink({}, config(), transport, clock);
    expect(result).toMatchObject({ ok: false, reason: 'server-error' });
    expect(!result.ok && result.message).toContain('no time left within the 25000 ms budget');
    expect(clock.sleeps).toEqual([]);
  });

  it('a hanging sink: each attempt has its own timeout and the whole stays within the deadline', async () => {
    const clock = fakeClock();
    const start = clock.now();
    const { transport, requests } = scripted(clock, {
      ping: [pong],
      post: ['timeout', 'timeout', 'timeout', 'timeout'],
    });
    const result = await forwardToSink({}, config({ deadlineMs: 10_000 }), transport, clock);
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(clock.now() - start).toBeLessThanOrEqual(10_000);
    expect(requests[1]!.timeoutMs).toBe(5_000);
    expect(requests.length).toBe(3);
  });

  it('whatever fails and whenever, the step never runs past its deadline', async () => {
    const answer = fc.oneof(
      fc.constant<SinkAnswer | 'timeout'>('timeout'),
      fc.constant<SinkAnswer | 'timeout'>(refused),
      fc.record({
        kind: fc.constant('response' as const),
        status: fc.constantFrom(429, 500, 502, 503, 507),
        text: fc.constant('x'),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(answer, { minLength: 10, maxLength: 10 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 100, max: 60_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (answers, maxAttempts, deadlineMs, random) => {
          const clock = fakeClock(random);
          const start = clock.now();
          const { transport, requests } = scripted(clock, { ping: [pong], post: [...answers] });
          const result = await forwardToSink({}, config({ maxAttempts, deadlineMs }), transport, clock);
          expect(result.ok).toBe(false);
          expect(clock.now() - start).toBeLessThanOrEqual(deadlineMs);
          expect(requests.length - 1).toBeLessThanOrEqual(maxAttempts);
          expect(requests.every((r) => r.timeoutMs > 0)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([
    [{ kind: 'response', status: 200, text: 'pong' }, 'not-pong'],
    [{ kind: 'response', status: 404, text: 'Not found' }, 'refused'],
    [{ kind: 'response', status: 301, text: '' }, 'refused'],
    [{ kind: 'response', status: 401, text: 'unauthorized' }, 'refused'],
  ] as [SinkAnswer, string][])('a ping answered %j fails at once (%s)', async (answer, reason) => {
    const clock = fakeClock();
    const { transport, requests } = scripted(clock, { ping: [answer], post: [] });
    expect(await forwardToSink({}, config(), transport, clock)).toMatchObject({ ok: false, reason });
    expect(requests).toHaveLength(1);
  });
});

describe('forwardStep', () => {
  const recorder = () => {
    const exports: Record<string, unknown> = {};
    return {
      exports,
      $: { export: (k: string, v: unknown) => void (exports[k] = v), flow: { exit: () => undefined } },
    };
  };

  it('throws a config error naming the variables, before any request', async () => {
    const { $ } = recorder();
    const transport = async (): Promise<SinkAnswer> => {
      throw new Error('no request expected');
    };
    const error = await forwardStep({ body: {} }, $, { SINK_BASIC_AUTH_USER: 'u' }, transport).catch((e: unknown) => e);
    expect(isStepError(error) && error.code).toBe('config');
    expect((error as Error).message).toContain('SINK_URL (or local_dev_host) is not set');
    expect((error as Error).message).toContain('must be set together');
  });

  it('throws a sink error, never swallowing it', async () => {
    const r = recorder();
    const clock = fakeClock();
    const { transport } = scripted(clock, {
      ping: [pong],
      post: [{ kind: 'response', status: 413, text: '{"code": 413, "msg": "too big"}' }],
    });
    const error = await forwardStep({ body: {} }, r.$, { SINK_URL: 'sink.example' }, transport, clock).catch(
      (e: unknown) => e,
    );
    expect(isStepError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'SinkError', code: 'sink', reason: 'refused' });
    expect((error as Error).message).toBe(
      'the sink refused the webhook at https://sink.example/receive-webhooks: it answered 413 "too big"',
    );
    expect(r.exports.$summary).toBe('not delivered: refused');
  });
});

describe('helpers', () => {
  it('parses the sink replies', () => {
    expect(parseStoredReply('{"msg": "value with key 42 stored"}\n')).toEqual({
      reply: { msg: 'value with key 42 stored' },
      key: 42,
      duplicate: false,
    });
    expect(parseStoredReply('{"msg": "value with key 7 already stored"}')).toMatchObject({ key: 7, duplicate: true });
    expect(parseStoredReply('OK')).toEqual({ reply: 'OK', key: null, duplicate: false });
  });

  it('renders what the sink said on one short line', () => {
    expect(sinkMessage('{"code": 507, "msg": "store is full"}')).toBe('store is full');
    expect(sinkMessage('<html>\n  <body>oops</body>\n</html>')).toBe('<html> <body>oops</body> </html>');
    expect(sinkMessage('x'.repeat(500))).toHaveLength(203);
  });

  it('backoff stays within 50-100 % of 250 ms doubling, capped at 4 s', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, r) => {
        const full = Math.min(4000, 250 * 2 ** (n - 1));
        const delay = backoffMs(n, r);
        return delay >= full / 2 && delay <= full;
      }),
    );
    expect(attemptTimeoutMs(25_000)).toBe(12_500);
    expect(attemptTimeoutMs(500)).toBe(1_000);
  });
});
