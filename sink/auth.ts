import { createHash, timingSafeEqual } from 'node:crypto';
import type { BasicAuth } from '../shared/config.js';

/**
 * HTTP basic auth, the sink's second lock after the tunnel's. Both sides are hashed before comparing so the
 * comparison takes the same time whatever the length or content of the guess.
 */
export type AuthOutcome = { ok: true; user: string | null } | { ok: false };

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function createBasicAuthCheck(auth: BasicAuth | null): (authorization: string | undefined) => AuthOutcome {
  if (auth === null) return () => ({ ok: true, user: null });
  const expected = digest(`${auth.user}:${auth.pass}`);
  return (authorization) => {
    const match = authorization === undefined ? null : /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(authorization);
    const given = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    const equal = timingSafeEqual(digest(given), expected);
    return equal ? { ok: true, user: auth.user } : { ok: false };
  };
}
