import { createHash, timingSafeEqual } from 'node:crypto';
import type { BasicAuth } from '../../shared/config.js';
import type { LoginBackoff } from '../../shared/login-backoff.js';
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

/** Null when the request may go on, else the answer: 403 unset credentials, 429 backing off, 401 wrong ones. */
export function admit(
  request: Request,
  auth: BasicAuth | null,
  backoff: LoginBackoff,
  now: number,
  what: string,
): Response | null {
  if (auth === null) {
    return json(403, {
      message: `set SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS: ${what} asks for the sink credentials`,
    });
  }
  const address = clientAddress(request);
  const wait = backoff.waitSeconds(address, now);
  if (wait > 0) {
    const message = 'too many failed logins from this address: try again later';
    return json(429, { message }, { 'retry-after': String(wait) });
  }
  const given = request.headers.get('authorization');
  if (given === null || !sameSecret(given, basicAuthorization(auth))) {
    // No credentials at all is a browser asking for the prompt, not a guess.
    if (given !== null) backoff.failed(address, now);
    return json(
      401,
      { message: `${what} needs the sink's basic-auth credentials` },
      {
        'www-authenticate': 'Basic realm="outbox"',
      },
    );
  }
  backoff.succeeded(address);
  return null;
}
