import type { BasicAuth } from '../../shared/config.js';
import type { SinkReply } from '../../shared/delivery-decision.js';
import type { SinkAnswer, SinkRequest, SinkTransport } from '../forward.js';

/**
 * The Worker's way to the sink: the runtime's `fetch`, one timeout per request. Besides answering the forward
 * core, it notes the last reply of each kind (with ngrok's `ngrok-error-code`, which the core does not see) so
 * the outbox can tell "the sink is away" from "the sink refused this delivery".
 */
export interface SinkExchange {
  transport: SinkTransport;
  /** The last reply to a ping, and to a POST, if any was made. */
  last: { ping: SinkReply | null; post: SinkReply | null };
}

export function basicAuthorization(auth: BasicAuth): string {
  const bytes = new TextEncoder().encode(`${auth.user}:${auth.pass}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

export function sinkExchange(fetcher: typeof fetch = fetch): SinkExchange {
  const last: SinkExchange['last'] = { ping: null, post: null };
  const transport = async (request: SinkRequest): Promise<SinkAnswer> => {
    const which = request.method === 'GET' ? 'ping' : 'post';
    const headers: Record<string, string> = { ...request.headers };
    if (request.auth) headers.authorization = basicAuthorization(request.auth);
    if (request.method === 'POST') headers['content-type'] = request.contentType ?? 'application/json';
    try {
      const response = await fetcher(request.url, {
        method: request.method,
        headers,
        body: request.method === 'POST' ? request.body : undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(request.timeoutMs),
      });
      const text = await response.text();
      const ngrokErrorCode = response.headers.get('ngrok-error-code') ?? undefined;
      last[which] = { kind: 'response', status: response.status, ngrokErrorCode };
      // The edge's error code goes to the forward core too: some of ngrok's answers are final, not "away".
      const answer: SinkAnswer = { kind: 'response', status: response.status, text, ngrokErrorCode };
      const retryAfter = response.headers.get('retry-after');
      return retryAfter === null ? answer : { ...answer, retryAfter };
    } catch (error) {
      // A DOMException, which is not an Error in every runtime: read its name.
      const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
      const timedOut = name === 'TimeoutError' || name === 'AbortError';
      last[which] = { kind: 'network', timedOut };
      // The error's message only: it names the URL at most, never the Authorization header.
      return {
        kind: 'network',
        timedOut,
        detail: timedOut ? `no answer within ${request.timeoutMs} ms` : `network error: ${describe(error)}`,
      };
    }
  };
  return { transport, last };
}

function describe(error: unknown): string {
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(error);
}
