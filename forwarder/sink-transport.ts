import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { axios } from '@pipedream/platform';
import type { SinkAnswer, SinkRequest, SinkTransport } from './forward.js';
import type { StepContext } from './pipedream.js';

/**
 * The connections to the sink: kept alive and shared by every run of the step in this process, so the ping and
 * the POST of a delivery go over one connection (on Pipedream, one TLS handshake with the tunnel) and later
 * deliveries reuse it while it stays open. An agent of our own rather than Node's global one, whose defaults
 * differ between versions and which other code in the process may replace. Its options are the global agent's
 * since Node 19 (idle connections closed after 5 s, the most recently used first) but for the TCP keep-alive
 * delay: axios sets 60 s on every request's socket, and an agent with another delay sets it back whenever the
 * socket is released, eight setsockopt calls per request for nothing.
 */
const AGENT_OPTIONS = { keepAlive: true, keepAliveMsecs: 60_000, scheduling: 'lifo', timeout: 5_000 } as const;
export const sinkAgents = { http: new HttpAgent(AGENT_OPTIONS), https: new HttpsAgent(AGENT_OPTIONS) };

/**
 * The forward step's HTTP through `axios` from `@pipedream/platform`, as Pipedream's own steps do. It works the
 * same outside Pipedream (it wraps plain axios and uses `$` only for debug exports), so the tests exercise
 * this very code.
 *
 * Errors are turned into plain data here: an axios error carries the request config, Authorization header
 * included, and must never reach an export, a log line or an error message.
 */
export function axiosTransport($: StepContext): SinkTransport {
  return async (request: SinkRequest): Promise<SinkAnswer> => {
    // The attempt's deadline, cleared once it is answered (AbortSignal.timeout's timer would stay behind until
    // it fires or the signal is collected).
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), request.timeoutMs);
    try {
      const response = await axios($ as unknown as Parameters<typeof axios>[0], {
        method: request.method,
        url: request.url,
        auth: request.auth ? { username: request.auth.user, password: request.auth.pass } : undefined,
        data: request.body,
        headers:
          request.body === undefined
            ? { ...request.headers }
            : { ...request.headers, 'content-type': request.contentType ?? 'application/json' },
        // The body as text, parsed by the step: /ping answers text, /receive-webhooks JSON.
        responseType: 'text',
        transformResponse: [(data: unknown) => data],
        // A redirect is not the sink; following it would send the credentials elsewhere.
        maxRedirects: 0,
        // Every status comes back as data; the step decides what is retried.
        validateStatus: () => true,
        signal: deadline.signal,
        httpAgent: sinkAgents.http,
        httpsAgent: sinkAgents.https,
        returnFullResponse: true,
      });
      const header = (name: string) => {
        const value: unknown = response.headers?.[name];
        return typeof value === 'string' ? value : undefined;
      };
      return {
        kind: 'response',
        status: response.status,
        text: typeof response.data === 'string' ? response.data : JSON.stringify(response.data ?? ''),
        retryAfter: header('retry-after'),
        ngrokErrorCode: header('ngrok-error-code'),
        webhookKey: header('x-webhook-key'),
        webhookDuplicate: header('x-webhook-duplicate'),
      };
    } catch (error) {
      return networkAnswer(error, request.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  };
}

function networkAnswer(error: unknown, timeoutMs: number): SinkAnswer {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
    name?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === 'ERR_CANCELED' || code === 'ECONNABORTED' || code === 'ETIMEDOUT' || e.name === 'TimeoutError') {
    return { kind: 'network', timedOut: true, detail: `no answer within ${timeoutMs} ms` };
  }
  // Node's network messages name the address and the cause (`connect ECONNREFUSED 127.0.0.1:9888`), never
  // the credentials; anything longer is cut.
  const message = typeof e.message === 'string' ? e.message.replace(/\s+/g, ' ').slice(0, 200) : 'unknown error';
  return {
    kind: 'network',
    timedOut: false,
    detail: code && !message.includes(code) ? `${code}: ${message}` : message,
  };
}
