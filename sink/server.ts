import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SinkConfig } from '../shared/config.js';
import { formatAccessLog } from './access-log.js';
import { createBasicAuthCheck } from './auth.js';
import { loadInboxPages, type InboxPages } from './inbox-pages.js';
import { createLiveEvents, type LiveEvents } from './live-events.js';
import { errorBody, sendError, SERVER_NAME, type Exchange } from './respond.js';
import { notFound, ping, ROUTES, type RouteContext } from './routes.js';
import type { WebhookStore } from './store/types.js';
import type { HookStatus } from './hooks/hook-runner.js';

/**
 * The sink's HTTP server on node:http alone: auth, access log, routing, malformed-request answers and
 * timeouts. Routes live in routes.ts. `createSinkServer` returns an http.Server that is not yet listening.
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

interface ServerState {
  closing: boolean;
  live: LiveEvents;
  /** Responses in progress: on shutdown, those not yet answered are told the connection will close. */
  open: Set<ServerResponse>;
}

const states = new WeakMap<Server, ServerState>();

/** `location ~* /ping`: anywhere in the path, any case, without auth. */
const PING = /\/ping/i;

const WWW_AUTHENTICATE = { 'WWW-Authenticate': 'Basic realm="webhook sink", charset="UTF-8"' };

export function createSinkServer(
  config: SinkConfig,
  store: WebhookStore,
  log: (line: string) => void,
  options: SinkServerOptions = {},
): Server {
  const onError = options.onError ?? ((message: string) => process.stderr.write(`sink: ${message}\n`));
  const live = createLiveEvents(store, options.sseKeepAliveMs ?? 15_000);
  const ctx: RouteContext = {
    config,
    store,
    pages: options.pages ?? loadInboxPages(options.inboxDir),
    live,
    onError,
    hookStatus: options.hookStatus ?? (() => null),
  };
  const checkAuth = createBasicAuthCheck(config.auth);
  const state: ServerState = { closing: false, live, open: new Set() };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const ex: Exchange = { req, res, user: null, bodyBytes: 0 };
    // Every answer names the server: respond.ts writes the header with the status line.
    if (state.closing) res.setHeader('Connection', 'close');
    state.open.add(res);
    res.on('close', () => {
      state.open.delete(res);
      log(
        formatAccessLog({
          remoteAddr: req.socket.remoteAddress ?? '-',
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
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    if (PING.test(path)) return void ping(ctx, ex, query);
    const auth = checkAuth(req.headers.authorization);
    if (!auth.ok) return sendError(ex, 401, 'unauthorized', WWW_AUTHENTICATE);
    ex.user = auth.user;
    const route = ROUTES.get(path) ?? notFound;
    let outcome: void | Promise<void>;
    try {
      outcome = route(ctx, ex, query);
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
  // A client that half-closes after its request still reads the answer (RFC 9112, 9.6): by default Node
  // aborts the request in progress and closes, so a webhook could be stored and never acknowledged. This
  // property is Node's own switch for it, undocumented but long read by its HTTP server; a version without it
  // ignores the assignment and keeps the old behaviour.
  (server as Server & { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;

  // The answer to bytes that are not HTTP: written on the socket itself, since no response object exists.
  const answerUnparsable = (socket: Socket, status: number, body: string) => {
    if (!socket.writable) return;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nServer: ${SERVER_NAME}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    log(
      formatAccessLog({
        remoteAddr: socket.remoteAddress ?? '-',
        user: null,
        time: Date.now(),
        request: null,
        status,
        bodyBytes: Buffer.byteLength(body),
        referer: undefined,
        userAgent: undefined,
      }),
    );
  };

  // Node's own answer to a malformed request would carry no Server header; this one does, and is logged.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const busy = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? null;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = errorBody(status, (STATUS_CODES[status] ?? 'bad request').toLowerCase());
    if (busy !== null && !busy.writableEnded) {
      socket.pause(); // the parser has failed: nothing more is read from this connection
      if (busy.req.complete) {
        // Unparsable bytes pipelined behind a complete request still being answered (a webhook may be stored
        // by now): its answer goes out first, then this one, and the connection closes.
        busy.once('finish', () => answerUnparsable(socket, status, body));
        return;
      }
      // The fault is in the body of the request being answered (a bad chunk, a body too slow): answer that
      // (its route sees the body aborted and stores nothing), unless its answer has begun.
      if (busy.headersSent) {
        socket.destroy();
        return;
      }
      busy.writeHead(status, { Server: SERVER_NAME, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
      busy.end(body);
      return;
    }
    answerUnparsable(socket, status, body);
  });

  states.set(server, state);
  return server;
}

/**
 * Graceful stop: no new connections, live streams ended, idle keep-alive connections closed, requests in
 * flight finished (their connections close after the answer). After `graceMs` whatever remains is cut.
 */
export function closeSinkServer(server: Server, graceMs = 10_000): Promise<void> {
  const state = states.get(server);
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    if (state) {
      state.closing = true;
      for (const res of state.open) if (!res.headersSent) res.setHeader('Connection', 'close');
    }
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(force);
      resolve();
    });
    state?.live.closeAll();
    server.closeIdleConnections();
  });
}
