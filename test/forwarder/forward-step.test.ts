import { describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '@pipedream/platform';
import { isStepError } from '../../forwarder/errors.js';
import { forwardStep } from '../../forwarder/forward-step.js';
import type { Clock, SinkAnswer, SinkRequest } from '../../forwarder/forward.js';
import type { RunContext, StepContext } from '../../forwarder/pipedream.js';

// The forward step with a fake `$` that records `$.flow.rerun` as Pipedream documents it: `$.context.run.runs`
// counts runs from 1, `$.context.run.context` holds what the previous run passed. Each kind of answer leads to
// its decision; the schedule's end throws; the context goes from run to run.

const ENV = {
  SINK_URL: 'https://sink.example',
  FORWARD_MAX_ATTEMPTS: '2',
  FORWARD_DEADLINE_MS: '5000',
  FORWARD_PARK_DELAYS: '60,300,900',
};

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = Date.parse('2026-05-01T10:00:00Z');
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    random: () => 0.5,
    advance: (ms) => {
      now += ms;
    },
  };
}

interface Rerun {
  delayMs: number;
  context: unknown;
  maxRetries: number;
}

/** A `$` for run `run`, recording exports and reruns. */
function fakeStep(run: RunContext) {
  const exports: Record<string, unknown> = {};
  const reruns: Rerun[] = [];
  const $: StepContext = {
    export: (name, value) => void (exports[name] = JSON.parse(JSON.stringify(value)) as unknown),
    flow: {
      exit: () => undefined,
      rerun: (delayMs, context, maxRetries) =>
        void reruns.push({ delayMs, context: JSON.parse(JSON.stringify(context)), maxRetries }),
    },
    context: { run },
  };
  return { $, exports, reruns };
}

/** A transport answering every ping with `ping` and every POST with `post`. */
function transportOf(
  ping: SinkAnswer,
  post: SinkAnswer = {
    kind: 'response',
    status: 200,
    text: '{"msg": "stored"}',
    webhookKey: '7',
    webhookDuplicate: 'false',
  },
) {
  const requests: SinkRequest[] = [];
  return {
    requests,
    transport: async (request: SinkRequest): Promise<SinkAnswer> => {
      requests.push(request);
      return request.method === 'GET' ? ping : post;
    },
  };
}

const pong: SinkAnswer = { kind: 'response', status: 200, text: 'PONG' };
const offline: SinkAnswer = {
  kind: 'response',
  status: 404,
  text: '<!DOCTYPE html><html><body>The endpoint is offline</body></html>',
  ngrokErrorCode: 'ERR_NGROK_3200',
};

describe('the forward step decides by the answer', () => {
  it.each<[string, SinkAnswer, string]>([
    ['a network error', { kind: 'network', timedOut: false, detail: 'connect ECONNREFUSED' }, 'network error'],
    ['a timeout', { kind: 'network', timedOut: true, detail: 'no answer within 2500 ms' }, 'timeout'],
    ['429', { kind: 'response', status: 429, text: 'slow down' }, 'HTTP 429'],
    ['503', { kind: 'response', status: 503, text: 'busy' }, 'HTTP 503'],
    ["ngrok's offline endpoint (404 + ERR_NGROK_3200)", offline, 'ERR_NGROK_3200'],
    [
      "ngrok's unreachable upstream (502 + ERR_NGROK_8012)",
      { kind: 'response', status: 502, text: 'x', ngrokErrorCode: 'ERR_NGROK_8012' },
      'ERR_NGROK_8012',
    ],
    [
      "ngrok's edge failing to reach the agent (502 + ERR_NGROK_3210)",
      { kind: 'response', status: 502, text: 'x', ngrokErrorCode: 'ERR_NGROK_3210' },
      'ERR_NGROK_3210',
    ],
    [
      "ngrok's edge with no backend (502 + ERR_NGROK_724)",
      { kind: 'response', status: 502, text: 'x', ngrokErrorCode: 'ERR_NGROK_724' },
      'ERR_NGROK_724',
    ],
  ])('%s: parked with $.flow.rerun for the first delay', async (_name, answer, cause) => {
    const clock = fakeClock();
    const step = fakeStep({ runs: 1 });
    const result = await forwardStep({ body: { messageId: 'm' } }, step.$, ENV, transportOf(answer).transport, clock);
    expect(step.reruns).toEqual([
      { delayMs: 60_000, context: { firstTryAt: Date.parse('2026-05-01T10:00:00Z') }, maxRetries: 3 },
    ]);
    expect(result).toMatchObject({ parked: true, park: 1, of: 3, cause });
    expect(step.exports.$summary).toBe(`sink away (${cause}): parked, next try in 1 min, 1 of 3`);
    expect(step.exports.parked).toMatchObject({ nextTryAt: expect.stringMatching(/^2026-05-01T10:01:0/) });
  });

  it.each<[string, SinkAnswer, string]>([
    [
      '401 from the edge or the sink',
      { kind: 'response', status: 401, text: 'Unauthorized' },
      'check SINK_BASIC_AUTH_USER',
    ],
    ['404 without an ngrok error code', { kind: 'response', status: 404, text: 'not here' }, 'it answered 404'],
    ['a redirect', { kind: 'response', status: 302, text: '' }, 'it answered 302'],
    [
      "ngrok's invalid upstream answer (502 + ERR_NGROK_3004): not the sink",
      { kind: 'response', status: 502, text: 'x', ngrokErrorCode: 'ERR_NGROK_3004' },
      "it answered 502 from the tunnel's edge (ERR_NGROK_3004)",
    ],
  ])('%s: final at once, never parked', async (_name, answer, said) => {
    const step = fakeStep({ runs: 1 });
    const { transport, requests } = transportOf(answer);
    const error = await forwardStep({ body: {} }, step.$, ENV, transport, fakeClock()).catch((e: unknown) => e);
    expect(isStepError(error) && error.reason).toBe('refused');
    expect((error as Error).message).toContain(said);
    expect(step.reruns).toEqual([]);
    expect(requests).toHaveLength(1);
  });

  it('a 400 to the POST is final: parking cannot fix a refused body', async () => {
    const step = fakeStep({ runs: 1 });
    const { transport } = transportOf(pong, {
      kind: 'response',
      status: 400,
      text: '{"msg": "body is not valid JSON"}',
    });
    const error = await forwardStep({ body: {} }, step.$, ENV, transport, fakeClock()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'sink', reason: 'refused' });
    expect(step.reruns).toEqual([]);
  });

  it('delivered: the key from the X-Webhook-Key header, nothing parked', async () => {
    const step = fakeStep({ runs: 1 });
    const result = await forwardStep({ body: {} }, step.$, ENV, transportOf(pong).transport, fakeClock());
    expect(result).toMatchObject({ key: 7, duplicate: false });
    expect(step.exports.$summary).toBe('stored as key 7');
    expect(step.reruns).toEqual([]);
  });

  it('carries the context from run to run, waits each delay in turn, and throws after the last', async () => {
    const clock = fakeClock();
    const first = clock.now();
    let run: RunContext = { runs: 1 };
    const delays: number[] = [];
    for (;;) {
      const step = fakeStep(run);
      const outcome = await forwardStep({ body: {} }, step.$, ENV, transportOf(offline).transport, clock).catch(
        (e: unknown) => e,
      );
      if (outcome instanceof Error) {
        expect(run.runs).toBe(4);
        expect(step.reruns).toEqual([]);
        expect(isStepError(outcome) && outcome.reason).toBe('tunnel-offline');
        expect(outcome.message).toMatch(
          /^the sink was away for 21 min \d+ s over 4 runs; last: the sink is not reachable/,
        );
        expect(step.exports.$summary).toMatch(/^not delivered: sink away \(ERR_NGROK_3200\) for 21 min/);
        break;
      }
      expect(step.reruns).toHaveLength(1);
      const [rerun] = step.reruns;
      expect(rerun!.context).toEqual({ firstTryAt: first });
      delays.push(rerun!.delayMs);
      // Pipedream runs the step again after the delay, counting the run and handing over the context.
      clock.advance(rerun!.delayMs);
      run = { runs: run.runs + 1, context: rerun!.context };
    }
    expect(delays).toEqual([60_000, 300_000, 900_000]);
  });

  it('without $.flow.rerun (a step being tested) a sink that is away fails the step', async () => {
    const step = fakeStep({ runs: 1 });
    delete step.$.flow.rerun;
    const error = await forwardStep({ body: {} }, step.$, ENV, transportOf(offline).transport, fakeClock()).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'sink', reason: 'tunnel-offline' });
  });

  it('POSTs the bytes received, with their Content-Type, when it has them', async () => {
    const raw = { text: '{"messageId": "m", "n": 1.0}', contentType: 'application/json; charset=utf-8' };
    const { transport, requests } = transportOf(pong);
    await forwardStep({ body: { messageId: 'm', n: 1 }, raw }, fakeStep({ runs: 1 }).$, ENV, transport, fakeClock());
    expect(requests[1]).toMatchObject({ body: raw.text, contentType: raw.contentType });
  });

  it("a configuration problem is Pipedream's ConfigurationError, with its reason", async () => {
    const error = await forwardStep({ body: {} }, fakeStep({ runs: 1 }).$, {}, transportOf(pong).transport).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ name: 'ConfigurationError', code: 'config', reason: 'invalid-config' });
  });
});
