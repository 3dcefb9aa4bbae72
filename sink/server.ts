import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { answerClientErrors } from './http/client-error.js';
import { capConnections } from './http/connection-cap.js';
import { allowHalfOpenRequests } from './http/node-internals.js';
import type { SinkConfig } from '../shared/config.js';
import { formatAccessLog } from './access-log.js';
import { createAllowedHosts } from './allowed-hosts.js';
import { createBasicAuthCheck } from './auth.js';
import { loadInboxPages, type InboxPages } from './inbox-pages.js';
import { BACKOFF_LIMITS, clientOf, createLoginBackoff } from '../shared/login-backoff.js';
import { createLiveEvents, type LiveEvents } from './live-events.js';
import { errorBody, sendError, SERVER_NAME, type Exchange } from './respond.js';
import { notFound, ping, ROUTES, type RouteContext } from './routes.js';
import { createSignatureCheck } from './signature-check.js';
import type { WebhookStore } from './store/types.js';
import type { HookStatus } from './hooks/hook-runner.js';

/**
 * The sink's HTTP server on node:http alone: auth, access log, routing, malformed-request answers and
 * timeouts. Routes live in routes.ts. `createSinkServer` returns an http.Server that is not yet listening and
 * the graceful stop that goes with it.
 */
export interface SinkServerOptions {
  /** Defaults to sink/inbox/. */
  inboxDir?: string;
  pages?: InboxPages;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** Inactivity on a connection, including a client that stops reading a dump. */
  socketTimeoutMs?: number;
  sseKeepAliveMs?: number;
  /** Operational errors for stderr. */
  onError?: (message: string) => void;
  /** GET /hooks: the hook's state, null when no hook is configured. */
  hookStatus?: () => HookStatus | null;
}

export interface SinkServer {
  server: Server;
  /**
   * Graceful stop: no new connections, live streams ended, idle keep-alive connections closed, requests in
   * flight finished (their connections close after the answer). After `graceMs` whatever remains is cut.
   */
  close(graceMs?: number): Promise<void>;
  /** Answers requests whose Host names `host` too (the tunnel's, once it is open). */
  allowHost(host: string): void;
}

const MAX_TARGET_CHARS = 8192;

/** `location ~* /ping`: anywhere in the path, any case, without auth. */
const PING = /\/ping/i;

const WWW_AUTHENTICATE = { 'WWW-Authenticate': 'Basic realm="webhook sink", charset="UTF-8"' };

export function createSinkServer(
  config: SinkConfig,
  store: WebhookStore,
  log: (line: string) => void,
  options: SinkServerOptions = {},
): SinkServer {
  const onError = options.onError ?? ((message: string) => process.stderr.write(`sink: ${message}\n`));
  const live = createLiveEvents(store, options.sseKeepAliveMs ?? 15_000);
  const ctx: RouteContext = {
    config,
    store,
    pages: options.pages ?? loadInboxPages(options.inboxDir),
    live,
    onError,
    hookStatus: options.hookStatus ?? (() => null),
    signatures: createSignatureCheck(config.up42 ?? null),
  };
  const checkAuth = createBasicAuthCheck(config.auth);
  const hosts = createAllowedHosts(config);
  const backoff = createLoginBackoff({ ...BACKOFF_LIMITS, freeFailures: config.maxFailedLogins });
  const state = { closing: false, live, open: new Set<ServerResponse>() };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const ex: Exchange = { req, res, user: null, bodyBytes: 0 };
    // Read now: once the client is gone the socket no longer knows it, and the access log still needs it.
    const remoteAddr = req.socket.remoteAddress ?? '-';
    // Every answer names the server: respond.ts writes the header with the status line.
    if (state.closing) res.setHeader('Connection', 'close');
    state.open.add(res);
    res.on('close', () => {
      state.open.delete(res);
      log(
        formatAccessLog({
          remoteAddr,
          user: ex.user,
          time: Date.now(),
          request: `${req.method} ${req.url} HTTP/${req.httpVersion}`,
          // nginx's 499: the client left before an answer was sent.
          status: res.headersSent ? res.statusCode : 499,
          bodyBytes: ex.bodyBytes,
          referer: req.headers.referer,
          userAgent: req.headers['user-agent'],
        }),
      );
    });
    // Node's own 400 for this would name no server and say nothing (see requireHostHeader below).
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      return sendError(ex, 400, 'the Host header is missing', { Connection: 'close' });
    }
    const host = req.headers.host;
    if (host !== undefined && !hosts.allows(host, req.socket.localAddress)) {
      const shown = host.length > 100 ? `${host.slice(0, 100)}...` : host;
      return sendError(
        ex,
        421,
        `this sink does not answer to the host ${JSON.stringify(shown)}; ` +
          'to allow it, add its name to SINK_ALLOWED_HOSTS',
        { Connection: 'close' },
      );
    }
    const url = req.url ?? '/';
    // nginx's limit too (one 8 KB buffer per request line): nothing legitimate here needs a longer target.
    if (url.length > MAX_TARGET_CHARS) {
      const msg = `the request target is longer than ${MAX_TARGET_CHARS} characters`;
      return sendError(ex, 414, msg, { Connection: 'close' });
    }
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    if (PING.test(path)) return void ping(ctx, ex, query);
    // UP42's own delivery, straight to the sink (direct mode): its signature stands in for the credentials, and
    // the route checks it before anything is stored.
    ex.direct = path === '/receive-webhooks' && req.method === 'POST' && ctx.signatures.isDirect(req.headers);
    if (ex.direct) return route(ex, path, query);
    // A request without credentials is how a browser asks for the login prompt: not a guess, never held.
    if (config.auth === null || req.headers.authorization === undefined) return authorize(ex, path, query, null);
    const client = clientOf(remoteAddr);
    const turn = backoff.turn(client, Date.now());
    if (!turn.ok) {
      return sendError(ex, 429, 'too many logins waiting from this client: try again later', {
        'Retry-After': String(turn.retryAfterSeconds),
      });
    }
    if (turn.waitMs === 0) return authorize(ex, path, query, client);
    const timer = setTimeout(() => authorize(ex, path, query, client), turn.waitMs);
    res.once('close', () => clearTimeout(timer));
  };

  /** Checks the credentials (a guess of `client`'s, or none to check) and routes the request. */
  const authorize = (ex: Exchange, path: string, query: string, client: string | null) => {
    const auth = checkAuth(ex.req.headers.authorization);
    if (!auth.ok) {
      const failure = client === null ? null : backoff.failed(client, Date.now());
      if (failure?.throttled === true) {
        return sendError(ex, 429, 'too many failed logins from this client: try again later', {
          'Retry-After': String(failure.retryAfterSeconds),
        });
      }
      return sendError(ex, 401, 'unauthorized', WWW_AUTHENTICATE);
    }
    ex.user = auth.user;
    route(ex, path, query);
  };

  const route = (ex: Exchange, path: string, query: string) => {
    const handler = ROUTES.get(path) ?? notFound;
    let outcome: void | Promise<void>;
    try {
      outcome = handler(ctx, ex, query);
    } catch (err) {
      return fail(ex, err);
    }
    if (outcome instanceof Promise) outcome.catch((err: unknown) => fail(ex, err));
  };

  const fail = (ex: Exchange, err: unknown) => {
    onError(`request failed: ${err instanceof Error ? err.message : String(err)}`);
    if (!ex.res.headersSent) sendError(ex, 500, 'internal error');
    else ex.res.destroy();
  };

  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
      // How often Node checks the two timeouts above; its default (30 s) would let them overshoot a lot.
      connectionsCheckingInterval: 1_000,
      // Checked in handle(), so the answer carries the Server header and a message like every other.
      requireHostHeader: false,
    },
    handle,
  );
  server.timeout = options.socketTimeoutMs ?? 120_000;
  allowHalfOpenRequests(server);
  capConnections(server, config.maxConnections);
  answerClientErrors(server, {
    answer: (status) => ({
      headers: { Server: SERVER_NAME, 'Content-Type': 'application/json' },
      body: errorBody(status, (STATUS_CODES[status] ?? 'bad request').toLowerCase()),
    }),
    onAnswered: (socket, status, bodyBytes) =>
      log(
        formatAccessLog({
          remoteAddr: socket.remoteAddress ?? '-',
          user: null,
          time: Date.now(),
          request: null,
          status,
          bodyBytes,
          referer: undefined,
          userAgent: undefined,
        }),
      ),
  });

  return { server, close: (graceMs) => closeSinkServer(server, state, graceMs), allowHost: (host) => hosts.add(host) };
}

function closeSinkServer(
  server: Server,
  state: { closing: boolean; live: LiveEvents; open: Set<ServerResponse> },
  graceMs = 10_000,
): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    state.closing = true;
    for (const res of state.open) if (!res.headersSent) res.setHeader('Connection', 'close');
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(force);
      resolve();
    });
    state.live.closeAll();
    server.closeIdleConnections();
  });
}
