import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { answerThenLinger } from './http/linger.js';

/** One request and what the access log needs to know about it. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  /** The authenticated user, for the log. */
  user: string | null;
  /** Body bytes sent (nginx's $body_bytes_sent). */
  bodyBytes: number;
  /** A delivery taken without credentials on the strength of UP42's signature (direct mode). */
  direct?: boolean;
}

/** The only header naming the server; nothing names the technology behind it. */
export const SERVER_NAME = 'LeRenard2000';

export const JSON_TYPE = 'application/json';

/** The article's error shape, bytes included: `{"code": 405, "msg": "method not allowed"}` and a newline. */
export const errorBody = (code: number, msg: string) => `{"code": ${code}, "msg": ${JSON.stringify(msg)}}\n`;

export const storedBody = (key: number) => `{"msg": "value with key ${key} stored"}\n`;
export const duplicateBody = (key: number) => `{"msg": "value with key ${key} already stored"}\n`;

/**
 * The status line and headers, Server first. Written in one writeHead call with a flat list: setting headers
 * one by one (setHeader) costs several microseconds per response, a fifth of what a bare node:http answer
 * costs in all. `headers` must not repeat one already given: a list keeps duplicates.
 */
export function writeHead(ex: Exchange, status: number, headers: OutgoingHttpHeader[]): void {
  ex.res.writeHead(status, ['Server', SERVER_NAME, ...headers]);
}

export function send(
  ex: Exchange,
  status: number,
  contentType: string | null,
  body: string | Buffer,
  headers?: OutgoingHttpHeaders,
): void {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  const { res } = ex;
  const list: OutgoingHttpHeader[] = ['Server', SERVER_NAME];
  if (contentType !== null) list.push('Content-Type', contentType);
  // A 204 carries no Content-Length at all (RFC 9110, 8.6).
  if (status !== 204) list.push('Content-Length', data.length);
  if (headers) for (const [name, value] of Object.entries(headers)) if (value !== undefined) list.push(name, value);
  res.writeHead(status, list);
  if (ex.req.method === 'HEAD' || status === 204 || status === 304) {
    res.end();
    return;
  }
  ex.bodyBytes += data.length;
  res.end(data);
}

export function sendError(ex: Exchange, status: number, msg: string, headers?: OutgoingHttpHeaders): void {
  send(ex, status, JSON_TYPE, errorBody(status, msg), headers);
}

/**
 * An error answered before the request body was read (413 and the like): the answer goes out at once, the
 * rest of the body is read and discarded within bounds, then the connection closes (http/linger.ts).
 */
export function refuseBeforeBody(ex: Exchange, status: number, msg: string): void {
  const data = Buffer.from(errorBody(status, msg));
  const headers: OutgoingHttpHeader[] = ['Server', SERVER_NAME, 'Content-Type', JSON_TYPE];
  headers.push('Content-Length', data.length, 'Connection', 'close');
  ex.res.writeHead(status, headers);
  ex.bodyBytes += data.length;
  answerThenLinger(ex.req, ex.res, data);
}

export function methodNotAllowed(ex: Exchange, allow: string): void {
  sendError(ex, 405, 'method not allowed', { Allow: allow });
}

/** Writes a chunk of a streamed body, waiting when the client reads slower than we write. false: it left. */
export async function writeChunk(ex: Exchange, chunk: Buffer): Promise<boolean> {
  const { res } = ex;
  if (res.destroyed) return false;
  ex.bodyBytes += chunk.length;
  return res.write(chunk) || drained(res);
}

/** Waits until the client has read what is buffered; false when it left. */
export function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** A streamed body of lines (the dump): `line` answers true, or a promise of false when the client left. */
export interface LineStream {
  line(bytes: Buffer): true | Promise<boolean>;
  /** Sends what is gathered, then ends the response. */
  end(): void;
}

const LF = 0x0a;

/**
 * Lines are copied into chunks of `size` bytes and each full chunk goes out in one socket write, rather than
 * two writes per line. A chunk the socket has finished with is reused, so a dump of any length allocates a
 * few chunks, and the lines it is given may be reused by their owner as soon as `line` returns.
 */
export function createLineStream(ex: Exchange, size = 64 * 1024): LineStream {
  const { res } = ex;
  const spare: Buffer[] = [];
  let chunk: Buffer = Buffer.allocUnsafe(size);
  let used = 0;
  const send = (data: Buffer, owner: Buffer): boolean => {
    ex.bodyBytes += data.length;
    return res.write(data, (err) => {
      if (!err && owner.length === size) spare.push(owner);
    });
  };
  const flush = (): boolean => {
    if (used === 0) return true;
    const ok = send(chunk.subarray(0, used), chunk);
    chunk = spare.pop() ?? Buffer.allocUnsafe(size);
    used = 0;
    return ok;
  };
  return {
    line(bytes) {
      if (res.destroyed) return Promise.resolve(false);
      let ok = true;
      if (used + bytes.length + 1 > size) ok = flush();
      if (bytes.length + 1 > size) {
        // A line larger than a chunk goes out on its own, copied: the caller may reuse `bytes`.
        const own = Buffer.allocUnsafe(bytes.length + 1);
        bytes.copy(own);
        own[bytes.length] = LF;
        ok = send(own, own) && ok;
      } else {
        bytes.copy(chunk, used);
        used += bytes.length;
        chunk[used++] = LF;
      }
      return ok || drained(res);
    },
    end() {
      if (used > 0) {
        ex.bodyBytes += used;
        res.end(chunk.subarray(0, used));
      } else res.end();
    },
  };
}
