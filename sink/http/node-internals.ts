import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The two places where the servers reach past node:http's documented API, kept here so that a Node upgrade
 * that changes them breaks one file and its one test (test/sink/http/node-internals.test.ts).
 */

/**
 * A client that half-closes after its request still reads the answer (RFC 9112, 9.6): by default Node aborts
 * the request in progress and closes, so a webhook could be stored and never acknowledged. This property is
 * Node's own switch for it, undocumented but long read by its HTTP server; a version without it ignores the
 * assignment and keeps the old behaviour.
 */
export function allowHalfOpenRequests(server: Server): void {
  (server as Server & { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
}

/** The response node:http is writing on `socket` (its `_httpMessage`), or null between requests. */
export function responseOnSocket(socket: Socket): ServerResponse | null {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? null;
}
