import { axios } from '@pipedream/platform';
import type { SinkAnswer, SinkRequest, SinkTransport } from './forward.js';
import type { StepContext } from './pipedream.js';

/**
 * The forward step's HTTP through `axios` from `@pipedream/platform`, as Pipedream's own steps do. It works the
 * same outside Pipedream (it wraps plain axios and uses `$` only for debug exports), so the local runner
 * and the tests exercise this very code.
 *
 * Errors are turned into plain data here: an axios error carries the request config, Authorization header
 * included, and must never reach an export, a log line or an error message.
 */
export function axiosTransport($: StepContext): SinkTransport {
  return async (request: SinkRequest): Promise<SinkAnswer> => {
    try {
      const response = await axios($ as unknown as Parameters<typeof axios>[0], {
        method: request.method,
        url: request.url,
        ...(request.auth ? { auth: { username: request.auth.user, password: request.auth.pass } } : {}),
        ...(request.body !== undefined ? { data: request.body, headers: { 'content-type': 'application/json' } } : {}),
        // The body as text, parsed by the step: /ping answers text, /receive-webhooks JSON.
        responseType: 'text',
        transformResponse: [(data: unknown) => data],
        // A redirect is not the sink; following it would send the credentials elsewhere.
        maxRedirects: 0,
        // Every status comes back as data; the step decides what is retried.
        validateStatus: () => true,
        signal: AbortSignal.timeout(request.timeoutMs),
        returnFullResponse: true,
      });
      const retryAfter = response.headers?.['retry-after'];
      return {
        kind: 'response',
        status: response.status,
        text: typeof response.data === 'string' ? response.data : JSON.stringify(response.data ?? ''),
        ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
      };
    } catch (error) {
      return networkAnswer(error, request.timeoutMs);
    }
  };
}

function networkAnswer(error: unknown, timeoutMs: number): SinkAnswer {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === 'ERR_CANCELED' || code === 'ECONNABORTED' || code === 'ETIMEDOUT' || e.name === 'TimeoutError') {
    return { kind: 'network', timedOut: true, detail: `no answer within ${timeoutMs} ms` };
  }
  // Node's network messages name the address and the cause (`connect ECONNREFUSED 127.0.0.1:9888`), never
  // the credentials; anything longer is cut.
  const message = typeof e.message === 'string' ? e.message.replace(/\s+/g, ' ').slice(0, 200) : 'unknown error';
  return { kind: 'network', timedOut: false, detail: code && !message.includes(code) ? `${code}: ${message}` : message };
}
