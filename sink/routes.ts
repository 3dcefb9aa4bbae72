import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import { readBody } from './http/read-body.js';
import type { SinkConfig } from '../shared/config.js';
import { parseDumpQuery, parseEventsQuery } from './dump-query.js';
import { PAGE_SECURITY_HEADERS, type InboxPages } from './inbox-pages.js';
import type { LiveEvents } from './live-events.js';
import { statsJson } from './live-events.js';
import {
  createLineStream,
  duplicateBody,
  JSON_TYPE,
  methodNotAllowed,
  refuseBeforeBody,
  send,
  sendError,
  errorBody,
  storedBody,
  writeHead,
  type Exchange,
} from './respond.js';
import { bodyLine, envelopeLine } from './envelope.js';
import { StoreUnavailableError, type WebhookStore } from './store/types.js';
import type { HookStatus } from './hooks/hook-runner.js';
import { checkMeta } from './store/meta-limits.js';
import { webhookMeta } from './webhook-meta.js';
import type { SignatureCheck } from './signature-check.js';

/** The HTTP routes: thin adapters from requests to store calls and from store results to statuses. */
export interface RouteContext {
  config: SinkConfig;
  store: WebhookStore;
  pages: InboxPages;
  live: LiveEvents;
  /** Operational errors (disk), for stderr; never bodies or credentials. */
  onError: (message: string) => void;
  hookStatus: () => HookStatus | null;
  /** UP42's signature, checked again here when the sink has the secret. */
  signatures: SignatureCheck;
}

export type Route = (ctx: RouteContext, ex: Exchange, query: string) => void | Promise<void>;

const PONG = Buffer.from('PONG');

/** Answers 503 when the store's database is out of reach (the sender retries); false when it can serve. */
const unavailable = (ctx: RouteContext, ex: Exchange, message = ctx.store.unavailable): boolean => {
  if (!message) return false;
  sendError(ex, 503, `${message}; try again later`, { 'Retry-After': '2' });
  return true;
};

export const ping: Route = (_ctx, ex) => send(ex, 200, 'text/plain', PONG);

/** `application/json` or any `+json` type, with or without parameters. */
const JSON_CONTENT_TYPE = /^\s*application\/([a-z0-9.!#$&^_-]+\+)?json\s*(;|$)/i;
export const isJsonContentType = (value: string | undefined) => JSON_CONTENT_TYPE.test(value ?? '');

/**
 * Why a request comes from another site, or null. A browser marks what a page on another origin sends (a form
 * cannot set a JSON type, but may post text to a sink whose credentials the browser holds); the forwarder and
 * command-line clients send neither header. The sink's own origin is the one its Host names.
 */
export function crossSiteReason(headers: IncomingHttpHeaders): string | null {
  const site = headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return `Sec-Fetch-Site is ${site}`;
  const origin = headers.origin;
  if (origin === undefined) return null;
  let host: string | null;
  try {
    host = origin === 'null' ? null : new URL(origin).host;
  } catch {
    host = null;
  }
  return host !== null && host === headers.host?.toLowerCase() ? null : 'the Origin is not this sink';
}

export const receiveWebhook: Route = async (ctx, ex) => {
  if (ex.req.method !== 'POST') return methodNotAllowed(ex, 'POST');
  if (!isJsonContentType(ex.req.headers['content-type'])) {
    return refuseBeforeBody(ex, 415, 'Content-Type must be application/json');
  }
  const crossSite = crossSiteReason(ex.req.headers);
  if (crossSite !== null) return refuseBeforeBody(ex, 403, `cross-site requests are refused: ${crossSite}`);
  const outcome = await readBody(ex.req, ctx.config.maxBodyBytes);
  if (!outcome.ok) {
    // Past the limit the rest is only read to be discarded, so the client can read the answer; then it closes.
    const limit = ctx.config.maxBodyBytes;
    if (outcome.reason === 'too-large') refuseBeforeBody(ex, 413, `body is larger than ${limit} bytes`);
    return; // aborted: the client is gone and nothing was stored
  }
  const { body } = outcome;
  // Invalid UTF-8 is not JSON (toString would silently replace it). A BOM stays in the text, so JSON.parse
  // rejects it: it would break a dump line.
  if (!isUtf8(body)) return sendError(ex, 400, 'body is not valid JSON: it is not UTF-8');
  const text = body.toString('utf8');
  if (text.trim() === '') return sendError(ex, 400, 'body is empty: a JSON document is expected');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return sendError(ex, 400, 'body is not valid JSON');
  }
  let meta = webhookMeta(value);
  if (ctx.signatures.enabled) {
    const checked = ctx.signatures.check(ex.req.headers, body, value, ex.direct === true);
    if (checked.action === 'reject') {
      const msg = `signature rejected (${checked.reason}): ${checked.message}`;
      return sendError(ex, 401, msg, { 'X-Signature-Rejected': checked.reason });
    }
    if (checked.action === 'ignore') return send(ex, 202, JSON_TYPE, errorBody(202, `ignored: ${checked.reason}`));
    meta = { ...meta, verified: checked.verified, signed: checked.signed };
  }
  // Refused here, before anything is batched, so one webhook no store can index fails only itself.
  const limited = checkMeta(meta);
  if (!limited.ok) return sendError(ex, 400, `webhook refused: ${limited.message}`);
  const result = await ctx.store.append(body, limited.value);
  switch (result.status) {
    case 'stored':
      return send(ex, 200, JSON_TYPE, storedBody(result.key), {
        'X-Webhook-Key': result.key,
        'X-Webhook-Duplicate': 'false',
      });
    case 'duplicate':
      return send(ex, 200, JSON_TYPE, duplicateBody(result.key), {
        'X-Webhook-Key': result.key,
        'X-Webhook-Duplicate': 'true',
      });
    case 'full':
      return sendError(ex, 507, 'store is full');
    case 'invalid':
      return sendError(ex, 400, `webhook refused: ${result.message}`);
    case 'unavailable':
      return void unavailable(ctx, ex, result.message);
    case 'error':
      ctx.onError(`could not store a webhook: ${result.message}`);
      return sendError(ex, 500, 'could not store the webhook');
  }
};

async function dump(ctx: RouteContext, ex: Exchange, query: string): Promise<void> {
  const parsed = parseDumpQuery(new URLSearchParams(query));
  if (!parsed.ok) return sendError(ex, 400, parsed.message);
  const { filter, envelope } = parsed.value;
  if (unavailable(ctx, ex)) return;
  const { res } = ex;
  writeHead(ex, 200, ['Content-Type', 'application/x-ndjson; charset=utf-8', 'Cache-Control', 'no-store']);
  if (ex.req.method === 'HEAD') {
    res.end();
    return;
  }
  const out = createLineStream(ex);
  let n = 0;
  try {
    for await (const record of ctx.store.records(filter, { transient: true })) {
      const sent = out.line(envelope ? envelopeLine(record) : bodyLine(record.body));
      if (sent !== true && !(await sent)) return;
      n += 1;
    }
  } catch (err) {
    // Headers are out: cut the response so it cannot pass for a complete dump.
    ctx.onError(`dump failed: ${err instanceof Error ? err.message : String(err)}`);
    res.destroy();
    return;
  }
  out.line(Buffer.from(`{"number_webhooks_received": ${n}}`));
  out.end();
}

export const dumpWebhooks: Route = async (ctx, ex, query) => {
  const method = ex.req.method;
  if (method === 'GET' || method === 'HEAD') return dump(ctx, ex, query);
  if (method === 'DELETE') {
    const deleted = ctx.store.count;
    try {
      await ctx.store.clear();
    } catch (err) {
      if (err instanceof StoreUnavailableError) return void unavailable(ctx, ex, err.message);
      ctx.onError(`could not clear the store: ${err instanceof Error ? err.message : String(err)}`);
      return sendError(ex, 500, 'could not clear the store');
    }
    return send(ex, 200, JSON_TYPE, `{"msg": "deleted ${deleted} webhooks"}\n`);
  }
  return methodNotAllowed(ex, 'GET, HEAD, DELETE');
};

export const stats: Route = (ctx, ex) => {
  if (ex.req.method !== 'GET' && ex.req.method !== 'HEAD') return methodNotAllowed(ex, 'GET, HEAD');
  if (unavailable(ctx, ex)) return;
  send(ex, 200, JSON_TYPE, `${statsJson(ctx.store)}\n`, { 'Cache-Control': 'no-store' });
};

/**
 * Connections event streams can never take: a stream is a request in flight for hours, which the connection
 * cap cannot close to make room, so without a reserve streams could take every connection and leave `/ping`
 * and the forwarder's POSTs nothing but a reset. An eighth of SINK_MAX_CONNECTIONS, at least 8.
 */
export const reservedConnections = (maxConnections: number) => Math.max(8, Math.ceil(maxConnections / 8));

/** Event streams open at most: SINK_MAX_EVENT_STREAMS, and never into the reserve. */
export const eventStreamCap = (config: Pick<SinkConfig, 'maxEventStreams' | 'maxConnections'>) =>
  Math.max(1, Math.min(config.maxEventStreams, config.maxConnections - reservedConnections(config.maxConnections)));

export const events: Route = async (ctx, ex, query) => {
  if (ex.req.method !== 'GET') return methodNotAllowed(ex, 'GET');
  const params = new URLSearchParams(query);
  const header = ex.req.headers['last-event-id'];
  const raw = (typeof header === 'string' && header !== '' ? header : params.get('since')) ?? null;
  if (raw !== null && raw !== '' && !/^[0-9]{1,15}$/.test(raw.trim())) {
    return sendError(ex, 400, 'Last-Event-ID and since must be a whole number');
  }
  if (unavailable(ctx, ex)) return;
  const filter = parseEventsQuery(params);
  if (!filter.ok) return sendError(ex, 400, filter.message);
  // Each stream holds a socket for hours: past the cap, refuse rather than let streams take every descriptor.
  const cap = eventStreamCap(ctx.config);
  if (ctx.live.clients >= cap) {
    const why =
      cap === ctx.config.maxEventStreams
        ? `SINK_MAX_EVENT_STREAMS is ${cap}`
        : `${cap}: the rest of SINK_MAX_CONNECTIONS is kept for /ping and webhooks`;
    return sendError(ex, 503, `too many event streams open (${why}): close one and retry`, { 'Retry-After': '5' });
  }
  await ctx.live.attach(ex, raw === null || raw === '' ? null : Number(raw.trim()), filter.value);
};

const page =
  (pick: (pages: InboxPages) => Buffer | null, contentType: string): Route =>
  (ctx, ex) => {
    if (ex.req.method !== 'GET' && ex.req.method !== 'HEAD') return methodNotAllowed(ex, 'GET, HEAD');
    const body = pick(ctx.pages);
    if (body === null) return sendError(ex, 404, 'not found');
    send(ex, 200, contentType, body, { ...PAGE_SECURITY_HEADERS, 'Cache-Control': 'no-cache' });
  };

export const inboxPage = page((p) => p.index, 'text/html; charset=utf-8');
export const inboxScript = page((p) => p.js, 'text/javascript; charset=utf-8');
export const inboxStyle = page((p) => p.css, 'text/css; charset=utf-8');

export const hooks: Route = (ctx, ex) => {
  if (ex.req.method !== 'GET' && ex.req.method !== 'HEAD') return methodNotAllowed(ex, 'GET, HEAD');
  const status = ctx.hookStatus() ?? { configured: false };
  send(ex, 200, JSON_TYPE, `${JSON.stringify(status)}\n`, { 'Cache-Control': 'no-store' });
};

/** GET /check: whether the sink checks UP42's signatures, and what it saw of the last ones (never a body). */
export const check: Route = (ctx, ex) => {
  if (ex.req.method !== 'GET' && ex.req.method !== 'HEAD') return methodNotAllowed(ex, 'GET, HEAD');
  const answer = { verifying: ctx.signatures.enabled, verifications: ctx.signatures.reports() };
  send(ex, 200, JSON_TYPE, `${JSON.stringify(answer)}\n`, { 'Cache-Control': 'no-store' });
};

export const favicon: Route = (_ctx, ex) => send(ex, 204, null, '');

export const notFound: Route = (_ctx, ex) => sendError(ex, 404, 'not found');

export const ROUTES: ReadonlyMap<string, Route> = new Map([
  ['/receive-webhooks', receiveWebhook],
  ['/dump-webhooks', dumpWebhooks],
  ['/stats', stats],
  ['/events', events],
  ['/hooks', hooks],
  ['/check', check],
  ['/', inboxPage],
  ['/inbox.js', inboxScript],
  ['/inbox.css', inboxStyle],
  ['/favicon.ico', favicon],
]);
