import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { responseOnSocket } from './node-internals.js';

/**
 * Answers to requests node:http cannot parse or that stall (its `clientError` event), in the server's own
 * words: Node's default answer carries no body and none of the server's headers, and is not logged.
 */
export interface ClientErrorAnswer {
  /** Header names and values, without Content-Length and Connection (added here). */
  headers: Record<string, string>;
  body: string;
}

export interface ClientErrorHandling {
  answer: (status: number) => ClientErrorAnswer;
  /** Called once the answer is written on a connection that had no response of its own (for the access log). */
  onAnswered?: (socket: Socket, status: number, bodyBytes: number) => void;
}

/** 408 to a request too slow, 431 to headers too large, 400 to anything else that cannot be parsed. */
export function clientErrorStatus(code: string | undefined): number {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

export function answerClientErrors(server: Server, handling: ClientErrorHandling): void {
  // Written on the socket itself, since no response object exists; then the connection is closed outright
  // (not half-closed), so a client that stalls or sends garbage holds no descriptor past its answer.
  const writeRaw = (socket: Socket, status: number) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const { headers, body } = handling.answer(status);
    const length = Buffer.byteLength(body);
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    socket.end(`${head}Content-Length: ${length}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
    handling.onAnswered?.(socket, status, length);
  };

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = clientErrorStatus(err.code);
    const busy = responseOnSocket(socket);
    if (busy === null || busy.writableEnded) {
      writeRaw(socket, status);
      return;
    }
    socket.pause(); // the parser has failed: nothing more is read from this connection
    if (busy.req.complete) {
      // Unparsable bytes pipelined behind a complete request still being answered (a webhook may be stored
      // by now): its answer goes out first, then this one, and the connection closes.
      busy.once('finish', () => writeRaw(socket, status));
      return;
    }
    // The fault is in the body of the request being answered (a bad chunk, a body too slow): answer that
    // (its handler sees the body aborted and keeps nothing), unless its answer has begun.
    if (busy.headersSent) {
      socket.destroy();
      return;
    }
    const { headers, body } = handling.answer(status);
    busy.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    busy.end(body);
  });
}
