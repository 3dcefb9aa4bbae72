import { parseWorkerConfig, type WorkerConfig } from '../../shared/config.js';
import { packSignedHeaders } from '../../shared/signed-headers.js';
import type { VerificationReport } from '../../shared/verification-report.js';
import { decideDelivery } from '../validate.js';
import { stringBindings } from './bindings.js';
import { checkAnswer, type OutboxState } from './check.js';
import { json } from './gate.js';
import type { KeepRequest } from './outbox.js';
import { readBody } from './read-body.js';
import type { DurableObjectStub, WorkerEnv } from './runtime-types.js';

export { Outbox } from './outbox.js';

/**
 * The forwarder as a Cloudflare Worker. UP42's POST is validated as by the validate step (same shared code),
 * then kept in the outbox Durable Object; only once it is kept does UP42 hear 200 (or 200 with `duplicate: true`
 * for one the outbox already holds or delivered lately; 507 when it is full). The outbox delivers to the sink
 * on its own alarm. With the sink's basic auth: `GET /outbox` shows what waits, `GET /check` the outbox's state,
 * `POST /wake` (the sink calls it once it is back) drains it at once. `GET /check` alone checks the settings.
 */

/** Largest accepted body, as the sink's default. The module exports handlers only: workerd refuses others. */
const MAX_BODY_BYTES = 1024 * 1024;

function outboxStub(env: WorkerEnv): DurableObjectStub {
  return env.OUTBOX.get(env.OUTBOX.idFromName('outbox'));
}

/** Hands a verification report to the outbox, which keeps the last ones in memory; a failure costs only the note. */
async function noteReport(env: WorkerEnv, report: VerificationReport): Promise<void> {
  try {
    await outboxStub(env).fetch('https://outbox/report', { method: 'POST', body: JSON.stringify(report) });
  } catch {
    // GET /check then lacks this report; the delivery's answer does not depend on it.
  }
}

/** One of the locked pages, passed on to the outbox object with what its lock reads. */
function passOn(request: Request, env: WorkerEnv, path: string): Promise<Response> {
  const headers: Record<string, string> = {};
  for (const name of ['authorization', 'cf-connecting-ip']) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return outboxStub(env).fetch(`https://outbox${path}`, { method: request.method, headers });
}

export default {
  async fetch(request: Request, env: WorkerEnv): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    const config = parseWorkerConfig(stringBindings(env));
    if (request.method === 'GET' && path === '/check') return check(request, env, config);
    if (!config.ok) return json(500, { outcome: 'error', reason: 'invalid-config', message: config.message });
    if (path === '/outbox')
      return request.method === 'GET'
        ? passOn(request, env, `/outbox${url.search}`)
        : json(405, { message: 'GET only' });
    if (path === '/wake')
      return request.method === 'POST' ? passOn(request, env, '/wake') : json(405, { message: 'POST only' });
    if (request.method !== 'POST')
      return json(405, { message: "POST UP42's webhooks here; GET /outbox shows what waits" }, { allow: 'POST' });
    return receive(request, env, config.value);
  },
};

async function check(
  request: Request,
  env: WorkerEnv,
  config: ReturnType<typeof parseWorkerConfig>,
): Promise<Response> {
  const settings = config.ok
    ? ({ ok: true } as const)
    : ({ ok: false, reason: 'invalid-config', message: config.message } as const);
  // Without credentials (or without settings to check them against): the settings only.
  if (request.headers.get('authorization') === null || !config.ok)
    return json(config.ok ? 200 : 500, checkAnswer(settings, null));
  const answer = await passOn(request, env, '/check');
  if (answer.status !== 200) return answer;
  const { verifications, ...outbox } = (await answer.json()) as OutboxState & {
    verifications: VerificationReport[];
  };
  return json(200, checkAnswer(settings, outbox, verifications));
}

async function receive(request: Request, env: WorkerEnv, config: WorkerConfig): Promise<Response> {
  const body = await readBody(request, MAX_BODY_BYTES);
  if (!body.ok) return json(body.status, { outcome: 'bad-request', message: body.message });
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => (headers[name] = value));
  const decision = decideDelivery(
    { headers, body: body.parsed, bodyRaw: body.raw },
    config.validate,
    Math.floor(Date.now() / 1000),
  );
  // What was verified, kept by the outbox for GET /check; a delivery it keeps brings its report along.
  if (decision.action !== 'notify') await noteReport(env, decision.report);
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
    messageId: decision.messageId ?? null,
    event: decision.event,
    status: decision.status,
    // UP42's signature, passed on so a sink with the secret checks it again.
    signedHeaders: packSignedHeaders(headers),
    report: decision.report,
    contentType: request.headers.get('content-type') ?? 'application/json',
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
  if (kept.status === 200) {
    const { seq } = (await kept.json()) as { seq: number };
    return json(200, { outcome: 'duplicate', duplicate: true, seq, messageId: decision.messageId ?? null });
  }
  if (kept.status === 507) {
    const { full } = (await kept.json()) as { full: string };
    // 507 is a 5xx: UP42 tries again later, when the outbox may have room.
    return json(507, { outcome: 'error', reason: 'outbox-full', message: `the outbox is full: ${full}` });
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
