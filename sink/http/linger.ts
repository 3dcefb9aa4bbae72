import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Lingering close, as nginx does it: a request refused before its body was read (413 and the like) gets its
 * whole answer at once, but the connection closes only after the rest of the body has been read and
 * discarded. Closing with unread bytes makes the kernel send a reset, which can destroy the answer in the
 * client's receive buffer before it reads it: a client that sends its whole body before reading (most do,
 * without `Expect: 100-continue`) would see a broken pipe instead of the status.
 */
export interface LingerLimits {
  /** Bytes discarded at most before the connection is cut anyway. */
  maxBytes: number;
  /** Time spent discarding at most. */
  maxMs: number;
  /** A pause in the client's sending this long ends it too (nginx's lingering_timeout). */
  idleMs: number;
}

export const LINGER_LIMITS: LingerLimits = { maxBytes: 16 * 1024 * 1024, maxMs: 10_000, idleMs: 1_000 };

/**
 * Writes `body` as the complete answer of `res` (headers must be set: call after writeHead, with a
 * Content-Length and `Connection: close`), then ends the response once the request body is read to its end,
 * the client is gone, or a limit is reached.
 */
export function answerThenLinger(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer | string,
  limits = LINGER_LIMITS,
): void {
  if (req.complete || req.destroyed) {
    res.end(body);
    return;
  }
  res.write(body);
  let seen = 0;
  const finish = () => {
    clearTimeout(timer);
    clearTimeout(idle);
    req.off('data', onData);
    req.off('end', finish);
    req.off('close', finish);
    req.off('error', finish);
    if (!res.writableEnded) res.end();
  };
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > limits.maxBytes) finish();
    else idle.refresh();
  };
  const timer = setTimeout(finish, limits.maxMs);
  const idle = setTimeout(finish, limits.idleMs);
  timer.unref();
  idle.unref();
  req.on('data', onData);
  req.on('end', finish);
  req.on('close', finish);
  req.on('error', finish);
  req.resume();
}
