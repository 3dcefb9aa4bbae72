import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { startRunner, type RunnerOptions } from '../../forwarder/runner/server.js';
import type { RunResult } from '../../forwarder/runner/workflow.js';
import type { Env } from '../../shared/env.js';
import { closedPort, startStubSink, type StubSink } from './stub-sink.js';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { deliver, event, nowSeconds } from './deliveries.js';

// The steps of pipedream.yaml, run by the local runner against a stub sink on loopback.

const SECRET = 'up42-whsec-7Qe2-TOPSECRET';
const OLD_SECRET = 'up42-whsec-old-Pz81-TOPSECRET';
const USER = 'relay-user';
const PASS = 'sink-pass-Hn4v-TOPSECRET';

/** Every log line, answer and run result of this file, checked for secrets at the end. */
const seen: string[] = [];

let sink: StubSink;
beforeEach(async () => {
  sink = await startStubSink({ user: USER, pass: PASS });
});
afterEach(async () => {
  await sink.close();
});

const baseEnv = (): Record<string, string> => ({
  UP42_WEBHOOK_SECRET: SECRET,
  SINK_URL: sink.url,
  SINK_BASIC_AUTH_USER: USER,
  SINK_BASIC_AUTH_PASS: PASS,
  FORWARD_MAX_ATTEMPTS: '3',
  FORWARD_DEADLINE_MS: '4000',
});

interface Harness {
  url: string;
  logs: string[];
  runs: RunResult[];
  send: (payload: unknown, options?: Parameters<typeof deliver>[2]) => ReturnType<typeof deliver>;
}

async function withRunner<T>(env: Env, fn: (h: Harness) => Promise<T>, options: RunnerOptions = {}): Promise<T> {
  const logs: string[] = [];
  const runs: RunResult[] = [];
  const runner = await startRunner({ host: '127.0.0.1', port: 0 }, env, {
    ...options,
    log: (line) => {
      logs.push(line);
      seen.push(line);
    },
    onRun: (result) => {
      runs.push(result);
      seen.push(JSON.stringify(result));
    },
  });
  const send: Harness['send'] = async (payload, o = { secret: SECRET }) => {
    const answer = await deliver(runner.url, payload, o);
    seen.push(answer.text);
    return answer;
  };
  try {
    return await fn({ url: runner.url, logs, runs, send });
  } finally {
    await runner.close();
  }
}

const logOf = (h: Harness) => {
  expect(h.logs).toHaveLength(1);
  return JSON.parse(h.logs[0]!) as Record<string, unknown>;
};

describe('notifiable deliveries are verified and forwarded', () => {
  it('forwards a live FAILED job: 200 with the sink reply, stored once, exports and one log line', async () => {
    const payload = event({ status: 'FAILED' });
    await withRunner(baseEnv(), async (h) => {
      const answer = await h.send(payload);
      expect(answer.status).toBe(200);
      expect(answer.json.outcome).toBe('forwarded');
      expect(answer.json.summary).toBe('stored as key 1');
      expect(sink.stored.get(payload.messageId)).toBe(1);
      expect(sink.count('/ping')).toBe(1);
      expect(sink.count('/receive-webhooks')).toBe(1);
      // The sink gets the webhook as the forwarder received it.
      expect(JSON.parse(sink.requests.find((r) => r.path === '/receive-webhooks')!.body)).toEqual(payload);

      const [run] = h.runs;
      expect(run!.steps.validate).toMatchObject({
        $summary: 'job.status FAILED (live) verified',
        event: 'job.status',
        status: 'FAILED',
        messageId: payload.messageId,
        liveMode: true,
      });
      expect(run!.steps.validate!.signature).toMatchObject({ digestChecked: true, secret: 'current' });
      expect(run!.steps.forward).toMatchObject({
        $summary: 'stored as key 1',
        sink: { msg: 'value with key 1 stored' },
        attempts: { ping: 1, post: 1 },
      });
      expect(logOf(h)).toMatchObject({
        outcome: 'forwarded',
        http: 200,
        event: 'job.status',
        status: 'FAILED',
        messageId: payload.messageId,
      });
      expect(typeof logOf(h).durationMs).toBe('number');
    });
  });

  it.each(['FAILED_PERMANENTLY', 'FAILED PERMANENTLY', 'failed_permanently'])(
    'forwards an order %s as FAILED_PERMANENTLY',
    async (status) => {
      const payload = event({ event: 'order.status', status });
      await withRunner(baseEnv(), async (h) => {
        const answer = await h.send(payload);
        expect(answer.status).toBe(200);
        expect(h.runs[0]!.steps.validate!.$summary).toBe('order.status FAILED_PERMANENTLY (live) verified');
        expect(sink.stored.has(payload.messageId)).toBe(true);
      });
    },
  );

  it('a second delivery of the same messageId is acknowledged as already stored', async () => {
    const payload = event({ status: 'SUCCEEDED' });
    await withRunner(baseEnv(), async (h) => {
      expect((await h.send(payload)).json.summary).toBe('stored as key 1');
      const again = await h.send(payload);
      expect(again.status).toBe(200);
      expect(again.json.summary).toBe('already stored as key 1');
      expect(sink.stored.size).toBe(1);
    });
  });

  it('honours UP42_NOTIFY_STATUSES', async () => {
    await withRunner({ ...baseEnv(), UP42_NOTIFY_STATUSES: 'running' }, async (h) => {
      expect((await h.send(event({ status: 'RUNNING' }))).status).toBe(200);
      expect((await h.send(event({ status: 'FAILED' }))).status).toBe(202);
    });
  });
});

describe('statuses nobody is notified about end the workflow cleanly', () => {
  it.each(['RUNNING', 'PENDING', 'BEING_FULFILLED'])(
    'ignores %s: 202 with the reason, nothing forwarded',
    async (status) => {
      await withRunner(baseEnv(), async (h) => {
        const answer = await h.send(event({ status }));
        expect(answer.status).toBe(202);
        expect(answer.json.outcome).toBe('ignored');
        expect(String(answer.json.reason)).toContain(`status ${status} is not in the notify list`);
        expect(sink.requests).toHaveLength(0);
        expect(h.runs[0]!.steps.forward).toBeUndefined();
        expect(logOf(h)).toMatchObject({ outcome: 'ignored', http: 202, status });
      });
    },
  );

  it('ignores a test event (liveMode false) when test mode is off', async () => {
    await withRunner(baseEnv(), async (h) => {
      const answer = await h.send(event({ liveMode: false, status: 'SUCCEEDED' }));
      expect(answer.status).toBe(202);
      expect(String(answer.json.reason)).toContain('test event');
      expect(sink.requests).toHaveLength(0);
    });
  });
});

describe('test mode', () => {
  it.each([
    ['UP42_TEST_MODE', { UP42_TEST_MODE: 'yes' }],
    ['its alias is_test', { is_test: 'yes' }],
  ])('%s forwards test events and any status', async (_name, extra) => {
    await withRunner({ ...baseEnv(), ...extra }, async (h) => {
      const test = event({ liveMode: false, status: 'SUCCEEDED' });
      const answer = await h.send(test);
      expect(answer.status).toBe(200);
      expect(h.runs[0]!.steps.validate!.$summary).toBe('job.status SUCCEEDED (test) verified');
      expect((await h.send(event({ status: 'RUNNING' }))).status).toBe(200);
      expect(sink.stored.size).toBe(2);
    });
  });

  it('skips the time window', async () => {
    await withRunner({ ...baseEnv(), UP42_TEST_MODE: 'yes' }, async (h) => {
      expect((await h.send(event(), { secret: SECRET, created: nowSeconds() - 3600 })).status).toBe(200);
      expect((await h.send(event(), { secret: SECRET, created: nowSeconds() + 3600 })).status).toBe(200);
    });
  });

  it('never skips the MAC', async () => {
    await withRunner({ ...baseEnv(), UP42_TEST_MODE: 'yes' }, async (h) => {
      const answer = await h.send(event(), { secret: 'not-the-secret' });
      expect(answer.status).toBe(401);
      expect(answer.json.reason).toBe('mac-mismatch');
      expect(sink.requests).toHaveLength(0);
    });
  });
});

describe('signatures that are rejected: 401 with the reason, nothing forwarded', () => {
  const cases: [string, Parameters<typeof deliver>[2], RegExp][] = [
    ['missing-signature', {}, /no signature header/],
    ['mac-mismatch', { secret: 'another-secret' }, /does not match/],
    ['stale', { secret: SECRET, created: nowSeconds() - 400 }, /created \d+ s ago/],
    ['future', { secret: SECRET, created: nowSeconds() + 120 }, /in the future/],
    [
      'digest-mismatch',
      { secret: SECRET, tamper: (r) => (r.body = r.body.replace('"FAILED"', '"SUCCEEDED"')) },
      /does not match its signed content-digest/,
    ],
    [
      'missing-signature-input',
      { secret: SECRET, tamper: (r) => delete r.headers['signature-input'] },
      /no signature-input header/,
    ],
    ['malformed-signature', { secret: SECRET, tamper: (r) => (r.headers.signature = 'garbage') }, /not of the form/],
    ['mac-mismatch', { secret: SECRET, tamper: (r) => (r.headers.date = new Date(0).toUTCString()) }, /does not match/],
  ];
  it.each(cases)('%s', async (reason, options, message) => {
    await withRunner(baseEnv(), async (h) => {
      const answer = await h.send(event(), options);
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ outcome: 'rejected', reason });
      expect(String(answer.json.message)).toMatch(message);
      expect(String(answer.json.message)).toContain(`signature rejected (${reason})`);
      expect(h.runs[0]!.steps.validate!.$summary).toBe(`signature rejected: ${reason}`);
      expect(sink.requests).toHaveLength(0);
      expect(logOf(h)).toMatchObject({ outcome: 'rejected', http: 401, reason });
    });
  });

  it('accepts the previous secret while a new one is rolled out', async () => {
    await withRunner({ ...baseEnv(), UP42_WEBHOOK_SECRET_PREVIOUS: OLD_SECRET }, async (h) => {
      expect((await h.send(event(), { secret: OLD_SECRET })).status).toBe(200);
      expect(h.runs[0]!.steps.validate!.signature).toMatchObject({ secret: 'previous' });
      expect((await h.send(event(), { secret: SECRET })).status).toBe(200);
    });
  });
});

describe('configuration', () => {
  it('a missing secret is a configuration error naming the variable: 500, nothing forwarded', async () => {
    const { UP42_WEBHOOK_SECRET: _, ...env } = baseEnv();
    await withRunner(env, async (h) => {
      const answer = await h.send(event());
      expect(answer.status).toBe(500);
      expect(answer.json.outcome).toBe('config-error');
      expect(String(answer.json.message)).toContain('UP42_WEBHOOK_SECRET (or up42_webhook_secret_zwei) is not set');
      expect(sink.requests).toHaveLength(0);
    });
  });

  it('a missing SINK_URL fails the forward step with a configuration error', async () => {
    const { SINK_URL: _, ...env } = baseEnv();
    await withRunner(env, async (h) => {
      const answer = await h.send(event());
      expect(answer.status).toBe(500);
      expect(answer.json.step).toBe('forward');
      expect(sink.requests).toHaveLength(0);
      expect(String(answer.json.message)).toContain('SINK_URL (or local_dev_host) is not set');
    });
  });

  it("accepts the article's names for every variable", async () => {
    const env = {
      up42_webhook_secret_zwei: SECRET,
      local_dev_host: sink.url,
      ngrok_basic_auth_user: USER,
      ngrok_basic_auth_pass: PASS,
    };
    await withRunner(env, async (h) => {
      const payload = event();
      expect((await h.send(payload)).status).toBe(200);
      expect(sink.stored.has(payload.messageId)).toBe(true);
    });
  });
});

describe('the sink unreachable or refusing: 502, saying why', () => {
  it('sink down: the delivery is parked (202 with the next try), listed by GET /parked', async () => {
    const port = await closedPort();
    const env = {
      ...baseEnv(),
      SINK_URL: `http://127.0.0.1:${port}`,
      FORWARD_MAX_ATTEMPTS: '2',
      FORWARD_PARK_DELAYS: '3600,7200',
    };
    await withRunner(env, async (h) => {
      const payload = event();
      const before = Date.now();
      const answer = await h.send(payload);
      expect(answer.status).toBe(202);
      expect(answer.json).toMatchObject({
        outcome: 'parked',
        step: 'forward',
        summary: 'sink away (network error): parked, next try in 1 h, 1 of 2',
      });
      const nextTryAt = Date.parse(String(answer.json.nextTryAt));
      expect(nextTryAt).toBeGreaterThanOrEqual(before + 3_600_000);
      expect(logOf(h)).toMatchObject({ outcome: 'parked', http: 202 });
      const listed = (await (await fetch(`${h.url}/parked`)).json()) as { parked: Record<string, unknown>[] };
      expect(listed.parked).toEqual([
        expect.objectContaining({
          step: 'forward',
          runs: 1,
          maxRetries: 2,
          messageId: payload.messageId,
          nextTryAt: answer.json.nextTryAt,
        }),
      ]);
    });
  });

  it('a ping answered with something other than PONG fails at once, nothing posted', async () => {
    sink.plan.ping.push({ status: 200, body: 'It works!' });
    await withRunner(baseEnv(), async (h) => {
      const answer = await h.send(event());
      expect(answer.status).toBe(502);
      expect(answer.json.reason).toBe('not-pong');
      expect(String(answer.json.message)).toContain('answered 200 "It works!" instead of PONG');
      expect(sink.count('/ping')).toBe(1);
      expect(sink.count('/receive-webhooks')).toBe(0);
    });
  });

  it('a ping refused for wrong credentials says so, without the credentials', async () => {
    await withRunner({ ...baseEnv(), SINK_BASIC_AUTH_PASS: 'wrong-pass-TOPSECRET' }, async (h) => {
      const answer = await h.send(event());
      expect(answer.status).toBe(502);
      expect(answer.json.reason).toBe('refused');
      expect(String(answer.json.message)).toContain('answered 401');
      expect(sink.count('/receive-webhooks')).toBe(0);
    });
  });

  it('a 500 is retried, and the webhook is stored once', async () => {
    sink.plan.receive.push({ status: 500, body: '{"code": 500, "msg": "disk hiccup"}' });
    const payload = event();
    await withRunner(baseEnv(), async (h) => {
      const answer = await h.send(payload);
      expect(answer.status).toBe(200);
      expect(sink.count('/receive-webhooks')).toBe(2);
      expect(sink.stored.size).toBe(1);
      expect(h.runs[0]!.steps.forward).toMatchObject({ $summary: 'stored as key 1', attempts: { ping: 1, post: 2 } });
    });
  });

  it('a 500 after the sink stored it is retried safely: already stored, once', async () => {
    sink.plan.receive.push({ status: 502, body: 'Bad Gateway', storeFirst: true });
    const payload = event();
    await withRunner(baseEnv(), async (h) => {
      const answer = await h.send(payload);
      expect(answer.status).toBe(200);
      expect(answer.json.summary).toBe('already stored as key 1');
      expect(sink.stored.size).toBe(1);
    });
  });

  it('a dropped connection, a 429 and a 503 on ping are retried', async () => {
    sink.plan.ping.push(
      'destroy',
      { status: 429, body: 'slow down', headers: { 'retry-after': '0' } },
      { status: 503, body: 'ngrok hiccup' },
    );
    await withRunner({ ...baseEnv(), FORWARD_MAX_ATTEMPTS: '4' }, async (h) => {
      const answer = await h.send(event());
      expect(answer.status).toBe(200);
      expect(h.runs[0]!.steps.forward).toMatchObject({ attempts: { ping: 4, post: 1 } });
    });
  });

  it('a 5xx that persists is parked after FORWARD_MAX_ATTEMPTS, saying what the sink said', async () => {
    sink.plan.receive.push(
      ...Array.from({ length: 5 }, () => ({ status: 507, body: '{"code": 507, "msg": "store is full"}' })),
    );
    await withRunner({ ...baseEnv(), FORWARD_PARK_DELAYS: '3600' }, async (h) => {
      const answer = await h.send(event());
      expect(answer.status).toBe(202);
      expect(answer.json.summary).toBe('sink away (HTTP 507): parked, next try in 1 h, 1 of 1');
      expect(sink.count('/receive-webhooks')).toBe(3);
    });
    sink.plan.receive.length = 0;
  });

  it.each([
    [413, '{"code": 413, "msg": "the body is larger than 1048576 bytes"}', 'the body is larger than 1048576 bytes'],
    [400, '{"code": 400, "msg": "the body is not JSON"}', 'the body is not JSON'],
    [401, '{"code": 401, "msg": "unauthorized"}', 'check SINK_BASIC_AUTH_USER'],
  ])('a %s is not retried and fails with the sink message', async (status, body, message) => {
    sink.plan.receive.push({ status, body });
    await withRunner(baseEnv(), async (h) => {
      const answer = await h.send(event());
      expect(answer.status).toBe(502);
      expect(answer.json.reason).toBe('refused');
      expect(String(answer.json.message)).toContain(`the sink refused the webhook`);
      expect(String(answer.json.message)).toContain(`answered ${status}`);
      expect(String(answer.json.message)).toContain(message);
      expect(sink.count('/receive-webhooks')).toBe(1);
      expect(sink.stored.size).toBe(0);
    });
  });
});

describe('time limits', () => {
  it('a hanging sink ends the forward step within FORWARD_DEADLINE_MS, before the step timeout: parked', async () => {
    sink.plan.receive.push('hang', 'hang', 'hang');
    await withRunner(
      { ...baseEnv(), FORWARD_DEADLINE_MS: '2400', FORWARD_PARK_DELAYS: '3600' },
      async (h) => {
        const started = Date.now();
        const answer = await h.send(event());
        expect(answer.status).toBe(202);
        expect(answer.json.summary).toBe('sink away (timeout): parked, next try in 1 h, 1 of 1');
        // The attempt timeout is half the budget, so a second attempt still fits in it.
        expect(sink.count('/receive-webhooks')).toBe(2);
        expect(Date.now() - started).toBeLessThan(2400 + 1500);
      },
      { stepTimeoutMs: 5000 },
    );
  });

  it('the runner stops a step at the step timeout, as Pipedream does', async () => {
    sink.plan.receive.push('hang');
    await withRunner(
      { ...baseEnv(), FORWARD_DEADLINE_MS: '2000', FORWARD_MAX_ATTEMPTS: '1' },
      async (h) => {
        const answer = await h.send(event());
        expect(answer.status).toBe(500);
        expect(answer.json).toMatchObject({ outcome: 'error', reason: 'step-timeout' });
        expect(String(answer.json.message)).toBe('step forward timed out after 300 ms');
      },
      { stepTimeoutMs: 300 },
    );
  });
});

describe('bad input never crashes the runner', () => {
  it('answers 400 to invalid JSON, 413 to an oversized body, and keeps serving', async () => {
    await withRunner(
      baseEnv(),
      async (h) => {
        const invalid = await fetch(h.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"event": ',
        });
        expect(invalid.status).toBe(400);
        expect(await invalid.json()).toMatchObject({ message: 'the body is not valid JSON' });
        const big = await fetch(h.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ pad: 'x'.repeat(5000) }),
        });
        expect(big.status).toBe(413);
        await big.text();
        const payload = event();
        expect((await h.send(payload)).status).toBe(200);
        expect(sink.stored.size).toBe(1);
        expect(h.logs.map((l) => JSON.parse(l).http)).toEqual([400, 413, 200]);
      },
      { maxBodyBytes: 4096 },
    );
  });

  /** Writes `data` on a fresh connection (then half-closes it, with `halfClose`); reads until the runner closes it. */
  const rawAnswer = (url: string, data: string, halfClose = false) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      let out = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (out += d));
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
      if (halfClose) socket.end(data);
      else socket.write(data);
    });

  /** A signed delivery of `payload` as the bytes of one HTTP/1.1 request. */
  const rawDelivery = (payload: unknown) => {
    const body = JSON.stringify(payload);
    const headers = Object.entries(signedDeliveryHeaders({ body, secret: SECRET, created: nowSeconds() }))
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    return `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };

  it('answers 431 to headers too large and 400 to a request it cannot parse, without crashing', async () => {
    await withRunner(baseEnv(), async (h) => {
      const huge = await rawAnswer(h.url, `GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(huge).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      const garbage = await rawAnswer(h.url, 'NOT HTTP AT ALL\r\n\r\n');
      expect(garbage).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect((await h.send(event())).status).toBe(200);
    });
  });

  it('answers a delivery that unparsable bytes follow on its connection, then 400, then closes', async () => {
    await withRunner(baseEnv(), async (h) => {
      const out = await rawAnswer(h.url, `${rawDelivery(event())}NOT HTTP AT ALL\r\n\r\n`);
      // The delivery was forwarded and stored: its answer comes first, whole, and the 400 after it.
      expect(sink.stored.size).toBe(1);
      const answers = [...out.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1]));
      expect(answers).toEqual([200, 400]);
      expect(out.slice(0, out.lastIndexOf('HTTP/1.1 400'))).toContain('stored as key 1');
      expect(h.logs.map((l) => JSON.parse(l).outcome)).toEqual(['forwarded']);
    });
  });

  it('answers a delivery whose sender half-closes the connection after sending it', async () => {
    await withRunner(baseEnv(), async (h) => {
      // A half-closed connection still reads (RFC 9112, 9.6): the delivery is forwarded and answered.
      const out = await rawAnswer(h.url, rawDelivery(event()), true);
      expect(sink.stored.size).toBe(1);
      expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(out).toContain('stored as key 1');
    });
  });

  it('an unsigned GET is rejected like any unsigned delivery', async () => {
    await withRunner(baseEnv(), async (h) => {
      const answer = await fetch(`${h.url}/anything?x=1`);
      expect(answer.status).toBe(401);
      const run = h.runs[0]!;
      expect(run.reason).toBe('missing-signature');
    });
  });
});

it('never shows a secret, a password or an Authorization value', () => {
  // Checked last, over everything the tests above made the runner say: answers, exports, log lines.
  expect(seen.length).toBeGreaterThan(30);
  const basic = Buffer.from(`${USER}:${PASS}`).toString('base64');
  const forbidden = [SECRET, OLD_SECRET, PASS, 'wrong-pass-TOPSECRET', 'TOPSECRET', basic, 'Basic ', 'authorization'];
  for (const text of seen) {
    for (const f of forbidden) expect(text.toLowerCase()).not.toContain(f.toLowerCase());
  }
});
