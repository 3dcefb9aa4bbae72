import { createHash, timingSafeEqual } from 'node:crypto';
import type { BasicAuth } from '../../shared/config.js';
import { clientOf, type LoginBackoff } from '../../shared/login-backoff.js';
import { basicAuthorization } from './sink-fetch.js';

/**
 * The lock on the Worker's own pages (`GET /outbox`, `GET /check` with credentials, `POST /wake`): the sink's
 * basic-auth credentials, and the sink's back-off on wrong ones, per client address. On Cloudflare the address
 * is `CF-Connecting-IP`, which Cloudflare sets itself; locally workerd (through Miniflare) sets it too. The
 * back-off lives in the outbox object's memory: one object answers every request, so every isolate shares it,
 * and it costs no storage (an eviction forgets it, as a restart of the sink does).
 */

export const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
  new Response(`${JSON.stringify(value, null, 2)}\n`, {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

export const clientAddress = (request: Request) => request.headers.get('cf-connecting-ip') ?? 'unknown';

/** Compares digests, so neither the time taken nor a length difference tells anything about the secret. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Null when the request may go on, else the answer: 403 unset credentials, 401 wrong ones, 429 for wrong ones
 * while the client backs off (its checks then wait their turn, as the sink's do: shared/login-backoff.ts).
 */
export async function admit(
  request: Request,
  auth: BasicAuth | null,
  backoff: LoginBackoff,
  now: () => number,
  what: string,
): Promise<Response | null> {
  if (auth === null) {
    return json(403, {
      message: `set SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS: ${what} asks for the sink credentials`,
    });
  }
  const client = clientOf(clientAddress(request));
  const given = request.headers.get('authorization');
  // No credentials at all is a browser asking for the prompt, not a guess: never held.
  if (given !== null) {
    const turn = backoff.turn(client, now());
    if (!turn.ok) {
      const message = 'too many logins waiting from this client: try again later';
      return json(429, { message }, { 'retry-after': String(turn.retryAfterSeconds) });
    }
    if (turn.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, turn.waitMs));
  }
  if (given === null || !sameSecret(given, basicAuthorization(auth))) {
    const failure = given === null ? null : backoff.failed(client, now());
    if (failure?.throttled === true) {
      const message = 'too many failed logins from this client: try again later';
      return json(429, { message }, { 'retry-after': String(failure.retryAfterSeconds) });
    }
    return json(
      401,
      { message: `${what} needs the sink's basic-auth credentials` },
      {
        'www-authenticate': 'Basic realm="outbox"',
      },
    );
  }
  return null;
}
