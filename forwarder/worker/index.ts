import { createHash, timingSafeEqual } from 'node:crypto';
import { parseWorkerConfig, type WorkerConfig } from '../../shared/config.js';
import { packSignedHeaders } from '../../shared/signed-headers.js';
import { decideDelivery } from '../validate.js';
import { stringBindings } from './bindings.js';
import type { KeepRequest } from './outbox.js';
import type { DurableObjectStub, WorkerEnv } from './runtime-types.js';
import { basicAuthorization } from './sink-fetch.js';

export { Outbox } from './outbox.js';

/**
 * The forwarder as a Cloudflare Worker. UP42's POST is validated as by the validate step (same shared code),
 * then kept in the outbox Durable Object; only once it is kept does UP42 hear 200. The outbox delivers to the
 * sink on its own alarm. `GET /outbox` (the sink's basic auth) shows what waits; `GET /check` the settings.
 */

/** Largest accepted body. The module exports handlers only: workerd refuses others. */
const MAX_BODY_BYTES = 1024 * 1024;

const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
  new Response(`${JSON.stringify(value)}\n`, { status, headers: { 'content-type': 'application/json', ...headers } });

function outboxStub(env: WorkerEnv): DurableObjectStub {
  return env.OUTBOX.get(env.OUTBOX.idFromName('outbox'));
}

export default {
  async fetch(request: Request, env: WorkerEnv): Promise<Response> {
    const path = new URL(request.url).pathname;
    const config = parseWorkerConfig(stringBindings(env));
    if (request.method === 'GET' && path === '/check') {
      return config.ok
        ? json(200, { ok: true })
        : json(500, { ok: false, reason: 'invalid-config', message: config.message });
    }
    if (!config.ok) return json(500, { outcome: 'error', reason: 'invalid-config', message: config.message });
    if (path === '/outbox')
      return request.method === 'GET' ? showOutbox(request, env, config.value) : json(405, { message: 'GET only' });
    if (request.method !== 'POST')
      return json(405, { message: "POST UP42's webhooks here; GET /outbox shows what waits" }, { allow: 'POST' });
    return receive(request, env, config.value);
  },
};

async function receive(request: Request, env: WorkerEnv, config: WorkerConfig): Promise<Response> {
  const body = await readBody(request);
  if (!body.ok) return json(body.status, { outcome: 'bad-request', message: body.message });
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => (headers[name] = value));
  const decision = decideDelivery(
    { headers, body: body.parsed, bodyRaw: body.raw },
    config.validate,
    Math.floor(Date.now() / 1000),
  );
  if (decision.action === 'reject') {
    const message = `signature rejected (${decision.reason}): ${decision.message}`;
    return json(401, { outcome: 'rejected', reason: decision.reason, message });
  }
  if (decision.action === 'ignore') {
    return json(202, {
      outcome: 'ignored',
      reason: decision.reason,
      event: decision.event ?? null,
      status: decision.status ?? null,
    });
  }
  const keep: KeepRequest = {
    body: body.raw,
    // UP42's signature, passed on so a sink with the secret checks it again.
    signedHeaders: packSignedHeaders(headers),
    messageId: decision.messageId ?? null,
    event: decision.event,
    status: decision.status,
  };
  // Not kept, so not acknowledged. Whether UP42 sends a delivery again after a 5xx is not documented: the answer says
  // what failed, and UP42's own record of the delivery is the only other trace.
  const notKept = (why: string) =>
    json(500, { outcome: 'error', reason: 'outbox', message: `the outbox did not keep the delivery (${why})` });
  let kept: Response;
  try {
    kept = await outboxStub(env).fetch('https://outbox/keep', { method: 'POST', body: JSON.stringify(keep) });
  } catch (error) {
    return notKept(error instanceof Error ? error.message : String(error));
  }
  if (kept.status !== 201) return notKept(`it answered ${kept.status}`);
  const { seq, waiting } = (await kept.json()) as { seq: number; waiting: number };
  return json(200, {
    outcome: 'kept',
    seq,
    waiting,
    event: decision.event,
    status: decision.status,
    messageId: decision.messageId ?? null,
  });
}

/** How much of a refused body is read and thrown away at most, as the sink's lingering close (sink/http/linger.ts). */
const DISCARD = { bytes: 16 * 1024 * 1024, totalMs: 10_000, pauseMs: 1_000 };

/**
 * Reads and drops what follows of a refused body, within DISCARD's bounds: workerd closes a connection whose
 * request body was left unread, and a client still sending (no `Expect: 100-continue`) then gets a broken pipe
 * instead of the answer.
 */
async function discard(request: Request): Promise<void> {
  const reader = request.body?.getReader();
  if (!reader) return;
  const deadline = Date.now() + DISCARD.totalMs;
  let read = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pause = () => new Promise<'pause'>((resolve) => (timer = setTimeout(() => resolve('pause'), DISCARD.pauseMs)));
  try {
    while (read <= DISCARD.bytes && Date.now() < deadline) {
      const next = await Promise.race([reader.read(), pause()]);
      clearTimeout(timer);
      if (next === 'pause' || next.done) break;
      read += next.value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client left or sent a broken body: there is nobody left to answer.
  }
}

type Body = { ok: true; raw: string; parsed: unknown } | { ok: false; status: 400 | 413; message: string };

/**
 * The body as sent: strict UTF-8 (a byte order mark kept), so the text checked against the signed digest and
 * later sent to the sink encodes back to exactly the bytes received.
 */
async function readBody(request: Request): Promise<Body> {
  const tooLarge: Body = { ok: false, status: 413, message: `the body is larger than ${MAX_BODY_BYTES} bytes` };
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) {
    await discard(request);
    return tooLarge;
  }
  let bytes: ArrayBuffer;
  try {
    bytes = await request.arrayBuffer();
  } catch {
    // A body cut off or badly framed fails that request alone, with a clear answer rather than a runtime error.
    return { ok: false, status: 400, message: 'the body could not be read: it was cut off or badly framed' };
  }
  if (bytes.byteLength > MAX_BODY_BYTES) return tooLarge;
  let raw: string;
  try {
    raw = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { ok: false, status: 400, message: 'the body is not valid UTF-8' };
  }
  try {
    return { ok: true, raw, parsed: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false, status: 400, message: 'the body is not valid JSON' };
  }
}

async function showOutbox(request: Request, env: WorkerEnv, config: WorkerConfig): Promise<Response> {
  const challenge = { 'www-authenticate': 'Basic realm="outbox"' };
  if (config.forward.auth === null) {
    return json(403, {
      message: 'set SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS: GET /outbox asks for the sink credentials',
    });
  }
  if (!sameSecret(request.headers.get('authorization') ?? '', basicAuthorization(config.forward.auth))) {
    return json(401, { message: "GET /outbox needs the sink's basic-auth credentials" }, challenge);
  }
  const answer = await outboxStub(env).fetch('https://outbox/outbox');
  return new Response(answer.body, { status: answer.status, headers: { 'content-type': 'application/json' } });
}

/** Compares digests, so neither the time taken nor a length difference tells anything about the secret. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
