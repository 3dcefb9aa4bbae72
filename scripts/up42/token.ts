import type { Dispatcher } from 'undici';
import { fail, ok, type Result } from '../../shared/result.js';
import { oneLine, redact } from '../cli/text.js';
import type { Up42Config } from './config.js';
import type { Up42Failure } from './errors.js';
import { httpCall } from './http.js';

/** UP42's SDK signs in as this public client; the token endpoint knows no other for password grants. */
export const CLIENT_ID = 'up42-sdk';
/** A token this close to its expiry is renewed first, so it cannot expire in flight. */
const EXPIRY_MARGIN_SECONDS = 30;
/** When the token endpoint gives no lifetime, the token is used for a minute at most. */
const DEFAULT_LIFETIME_SECONDS = 60;

export interface TokenSource {
  /** A valid access token, fetched once and reused until it is about to expire. */
  accessToken(): Promise<Result<string, Up42Failure>>;
  /** UP42_WORKSPACE_ID, or else the access token's subject. */
  workspaceId(): Promise<Result<string, Up42Failure>>;
}

export function tokenUrl(config: Up42Config): string {
  return `${config.authUrl}/realms/public/protocol/openid-connect/token`;
}

/** The claims of a JWT, unverified (only the subject is read, to name the workspace). */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const payload = token.split('.')[1];
  if (payload === undefined) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

export function createTokenSource(
  config: Up42Config,
  options: { timeoutMs: number; now?: () => number; dispatcher?: Dispatcher },
): TokenSource {
  const now = options.now ?? (() => Date.now() / 1000);
  let cached: { token: string; expiresAt: number } | null = null;
  // Calls made at the same time share one sign-in.
  let pending: Promise<Result<string, Up42Failure>> | null = null;

  const fetchToken = async (): Promise<Result<string, Up42Failure>> => {
    const started = now();
    const url = tokenUrl(config);
    const reply = await httpCall({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: config.username,
        password: config.password,
        client_id: CLIENT_ID,
      }).toString(),
      timeoutMs: options.timeoutMs,
      dispatcher: options.dispatcher,
    });
    if (!reply.ok) return reply;
    const { status, json } = reply.value;
    const body = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
    const why = (): string => {
      const text = [body.error_description, body.error].find((v) => typeof v === 'string') as string | undefined;
      return text ? `: ${oneLine(redact(text, [config.password]), 200)}` : '';
    };
    if (status === 400 || status === 401) {
      return fail('credentials', `UP42 refused to sign in (${status}): check UP42_USERNAME and UP42_PASSWORD${why()}`);
    }
    if (status < 200 || status >= 300) return fail('api', `the UP42 token endpoint answered ${status}${why()}`);
    const token = body.access_token;
    if (typeof token !== 'string' || token === '')
      return fail('bad-response', 'the UP42 token endpoint answered without an access token');
    const expiresIn =
      typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_LIFETIME_SECONDS;
    cached = { token, expiresAt: started + Math.max(expiresIn - EXPIRY_MARGIN_SECONDS, expiresIn / 2) };
    return ok(token);
  };

  const accessToken = async (): Promise<Result<string, Up42Failure>> => {
    if (cached && now() < cached.expiresAt) return ok(cached.token);
    pending ??= fetchToken().finally(() => {
      pending = null;
    });
    return pending;
  };

  const workspaceId = async (): Promise<Result<string, Up42Failure>> => {
    if (config.workspaceId !== null) return ok(config.workspaceId);
    const token = await accessToken();
    if (!token.ok) return token;
    const sub = jwtClaims(token.value)?.sub;
    if (typeof sub === 'string' && /^[A-Za-z0-9_-]+$/.test(sub)) return ok(sub);
    return fail('no-workspace', 'the access token names no workspace: set UP42_WORKSPACE_ID');
  };

  return { accessToken, workspaceId };
}
