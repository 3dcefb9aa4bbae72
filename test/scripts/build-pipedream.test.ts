import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { MAX_FILE_BYTES, type BuiltFile } from '../../scripts/build-pipedream.js';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { event, nowSeconds } from '../forwarder/deliveries.js';
import {
  buildSteps,
  startWorkflow,
  type BuiltSteps,
  type RunSpec,
  type Workflow,
} from '../forwarder/pipedream-standin.js';
import { startStubSink, type StubSink } from '../forwarder/stub-sink.js';

// Builds the Pipedream files into a temporary folder, then runs them in the stand-in for Pipedream's runtime
// (test/forwarder/pipedream-standin.ts), a plain Node process as Pipedream would: for code steps a global
// defineComponent, for actions none; `steps.trigger.event` and `raw_event`, a `$` with `$.flow.rerun` and
// `$.context.run` as Pipedream documents them, and for actions their props.

const SECRET = 'build-test-secret-TOPSECRET';
const USER = 'relay';
const PASS = 'build-test-pass-TOPSECRET';

let built: BuiltSteps;
let files: BuiltFile[];
let version: string;
let sink: StubSink;
const open: Workflow[] = [];

beforeAll(async () => {
  [built, sink] = await Promise.all([buildSteps(), startStubSink({ user: USER, pass: PASS })]);
  ({ files, version } = built);
});

afterAll(async () => {
  await Promise.all(open.map((w) => w.close()));
  await sink?.close();
  await built?.cleanup();
});

/** Runs the built validate then forward files of `kind` on `spec`, with `env` as the workflow's variables. */
async function runBuilt(kind: 'step' | 'action', spec: RunSpec, env: Record<string, string> = {}) {
  const workflow = await startWorkflow(built, env, kind);
  open.push(workflow);
  return { workflow, out: await workflow.run(spec) };
}

/** A trigger event as Pipedream builds it, from the body text sent. */
function triggerEvent(payload: unknown, secret = SECRET, created = nowSeconds(), body = JSON.stringify(payload)) {
  return {
    method: 'POST',
    path: '/',
    query: {},
    headers: signedDeliveryHeaders({ body, secret, created }),
    body: payload,
    url: 'https://x.m.pipedream.net/',
    client_ip: '127.0.0.1',
  };
}

/** `steps.trigger.raw_event` for a body text. */
const rawEvent = (body: string) => ({ body_b64: Buffer.from(body, 'utf8').toString('base64') });

const env = () => ({
  UP42_WEBHOOK_SECRET: SECRET,
  SINK_URL: sink.url,
  SINK_BASIC_AUTH_USER: USER,
  SINK_BASIC_AUTH_PASS: PASS,
});

describe('npm run build:pipedream', () => {
  it('writes a step and an action per step of pipedream.yaml, small, importing the pinned platform, node', async () => {
    expect(files.map((f) => `${f.kind}s/${f.step}.mjs`).sort()).toEqual([
      'actions/forward.mjs',
      'actions/validate.mjs',
      'steps/forward.mjs',
      'steps/validate.mjs',
    ]);
    for (const file of files) {
      const text = await readFile(file.path, 'utf8');
      expect(Buffer.byteLength(text)).toBe(file.bytes);
      expect(file.bytes).toBeLessThan(MAX_FILE_BYTES);
      const imports = [...text.matchAll(/^\s*import\s[^;]*?from\s*["']([^"']+)["']/gm)].map((m) => m[1]);
      expect(imports.length).toBeGreaterThan(0);
      for (const i of imports) expect(i === `@pipedream/platform@${version}` || i!.startsWith('node:')).toBe(true);
      expect(text).not.toMatch(/import[^;]*defineComponent/);
      expect(text).not.toMatch(/\brequire\(/);
      expect(text).not.toContain('withEnv');
      expect(text).toMatch(/export\s*\{[^}]*\b\w+ as default\b[^}]*\}/);
    }
    expect(
      files.filter((f) => f.step === 'forward').every((f) => f.imports.includes(`@pipedream/platform@${version}`)),
    ).toBe(true);
    for (const file of files.filter((f) => f.kind === 'action'))
      expect(await readFile(file.path, 'utf8')).not.toContain('defineComponent');
  });

  it('the pasted steps verify and forward a signed delivery', async () => {
    const payload = event({ status: 'FAILED' });
    const { out } = await runBuilt('step', { trigger: { event: triggerEvent(payload) } }, env());
    expect(out.error).toBeNull();
    expect(out.defined).toBe(2);
    expect(out.steps.validate).toMatchObject({ messageId: payload.messageId });
    // Without a raw body the signed digest is checked against the body as it is forwarded, and the summary says so.
    expect(out.steps.validate!.signature).toMatchObject({ digestChecked: true });
    expect(out.steps.validate!.$summary).toBe(
      'job.status FAILED (live) verified (digest checked against the body serialised again: no raw body)',
    );
    expect(out.steps.forward).toMatchObject({ $summary: `stored as key ${sink.stored.get(payload.messageId)}` });
    expect(sink.stored.has(payload.messageId)).toBe(true);
  });

  it('the pasted validate step throws on a bad signature and nothing is forwarded', async () => {
    const before = sink.requests.length;
    const { out } = await runBuilt('step', { trigger: { event: triggerEvent(event(), 'wrong-secret') } }, env());
    expect(out.error).toMatchObject({
      step: 'validate',
      name: 'SignatureRejected',
      code: 'signature',
      reason: 'mac-mismatch',
    });
    expect(out.steps.forward).toBeUndefined();
    expect(sink.requests.length).toBe(before);
  });

  it('the pasted validate step ends the workflow on an ignored status', async () => {
    const { out } = await runBuilt('step', { trigger: { event: triggerEvent(event({ status: 'RUNNING' })) } }, env());
    expect(out.error).toBeNull();
    expect(out.exit).toEqual({ step: 'validate', reason: 'ignored: status RUNNING is not in the notify list' });
    expect(out.steps.forward).toBeUndefined();
  });

  it('the actions take their inputs as props, secrets as secret props, and run without any environment', async () => {
    const payload = event({ event: 'order.status', status: 'FULFILLED' });
    const delivery = triggerEvent(payload);
    const props = {
      validate: { headers: delivery.headers, body: payload, UP42_WEBHOOK_SECRET: SECRET },
      forward: { body: payload, SINK_URL: sink.url, SINK_BASIC_AUTH_USER: USER, SINK_BASIC_AUTH_PASS: PASS },
    };
    const { out } = await runBuilt('action', { trigger: { event: delivery }, props });
    expect(out.error).toBeNull();
    expect(out.defined).toBe(0);
    expect(out.components.map((c) => [c.key, c.type, c.version])).toEqual([
      ['up42-webhook-relay-validate', 'action', '0.2.0'],
      ['up42-webhook-relay-forward', 'action', '0.2.0'],
    ]);
    const [validate, forward] = out.components;
    expect(validate!.props.UP42_WEBHOOK_SECRET).toMatchObject({ type: 'string', secret: true, optional: false });
    expect(validate!.props.UP42_TEST_MODE).toMatchObject({ type: 'string', optional: true });
    expect(validate!.props.UP42_TEST_MODE!.secret).toBeUndefined();
    expect(forward!.props.SINK_BASIC_AUTH_PASS).toMatchObject({ secret: true });
    expect(forward!.props.SINK_URL).toMatchObject({ optional: false });
    expect(out.steps.validate!.$summary).toMatch(/^order.status FULFILLED \(live\) verified/);
    expect(out.steps.forward!.$summary).toMatch(/^stored as key \d+$/);
    expect(sink.stored.has(payload.messageId)).toBe(true);
  });

  it('the pasted steps check and forward the bytes of steps.trigger.raw_event, formatted as they came', async () => {
    const messageId = `raw-${Date.now()}`;
    const text =
      `{"event": "job.status", "messageId": "${messageId}", "liveMode": true, ` +
      `"version": 1.0, "body": {"status": "FAILED"}}`;
    const delivery = triggerEvent(JSON.parse(text), SECRET, nowSeconds(), text);
    const { out } = await runBuilt('step', { trigger: { event: delivery, raw_event: rawEvent(text) } }, env());
    expect(out.error).toBeNull();
    expect(out.steps.validate!.$summary).toBe('job.status FAILED (live) verified');
    expect(sink.requests.filter((r) => r.path === '/receive-webhooks').map((r) => r.body)).toContain(text);
  });

  it('the pasted forward step parks with $.flow.rerun while the tunnel is offline, delivers later', async () => {
    const payload = event({ status: 'FAILED' });
    const text = JSON.stringify(payload);
    const offline = {
      status: 404,
      body: '<html>The endpoint is offline</html>',
      headers: { 'ngrok-error-code': 'ERR_NGROK_3200' },
    };
    sink.plan.ping.push(offline, offline);
    const trigger = { event: triggerEvent(payload, SECRET, nowSeconds(), text), raw_event: rawEvent(text) };
    const parkedEnv = { ...env(), FORWARD_MAX_ATTEMPTS: '2', FORWARD_PARK_DELAYS: '5,10' };
    const { workflow, out: first } = await runBuilt('step', { trigger }, parkedEnv);
    expect(first.error).toBeNull();
    expect(first.reruns).toEqual([
      { step: 'forward', delayMs: 5000, context: { firstTryAt: expect.any(Number) }, maxRetries: 2, run: 1 },
    ]);
    expect(first.steps.forward!.$summary).toBe('sink away (ERR_NGROK_3200): parked, next try in 5 s, 1 of 2');
    expect(sink.stored.has(payload.messageId)).toBe(false);

    // Pipedream runs the step again after the delay, with the run counted and the context handed over.
    sink.plan.ping.push(offline, offline);
    const second = await workflow.rerun(first, trigger);
    expect(second.error).toBeNull();
    expect(second.reruns).toEqual([
      { step: 'forward', delayMs: 10_000, context: first.reruns[0]!.context, maxRetries: 2, run: 2 },
    ]);
    expect(second.steps.forward!.$summary).toBe('sink away (ERR_NGROK_3200): parked, next try in 10 s, 2 of 2');
    expect(second.steps.validate).toEqual(first.steps.validate);

    // Past the last delay the step throws, naming how long it tried.
    sink.plan.ping.push(offline, offline);
    const last = await workflow.rerun(second, trigger);
    expect(last.error).toMatchObject({ step: 'forward', name: 'SinkError', reason: 'tunnel-offline' });
    expect(String(last.error!.message)).toMatch(/^the sink was away for .* over 3 runs/);
    expect(sink.stored.has(payload.messageId)).toBe(false);

    // A rerun that finds the sink back delivers.
    const back = await workflow.rerun(first, trigger);
    expect(back.error).toBeNull();
    expect(back.steps.forward!.$summary).toBe(`stored as key ${sink.stored.get(payload.messageId)}`);
  });

  it('the published forward action parks the same way, with no global defineComponent', async () => {
    const payload = event({ status: 'FAILED' });
    const text = JSON.stringify(payload);
    const delivery = triggerEvent(payload, SECRET, nowSeconds(), text);
    sink.plan.ping.push({ status: 503, body: 'busy' });
    const props = {
      validate: {
        headers: delivery.headers,
        body: payload,
        rawBodyB64: rawEvent(text).body_b64,
        UP42_WEBHOOK_SECRET: SECRET,
      },
      forward: {
        body: payload,
        headers: delivery.headers,
        rawBodyB64: rawEvent(text).body_b64,
        SINK_URL: sink.url,
        SINK_BASIC_AUTH_USER: USER,
        SINK_BASIC_AUTH_PASS: PASS,
        FORWARD_MAX_ATTEMPTS: '1',
        FORWARD_PARK_DELAYS: '60',
      },
    };
    const { out } = await runBuilt('action', { trigger: { event: delivery }, props });
    expect(out.defined).toBe(0);
    expect(out.error).toBeNull();
    expect(out.reruns).toEqual([
      { step: 'forward', delayMs: 60_000, context: { firstTryAt: expect.any(Number) }, maxRetries: 1, run: 1 },
    ]);
  });
});
