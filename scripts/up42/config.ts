import type { ConfigResult } from '../../shared/config.js';
import { describeName, envDefault, readEnv, type Env, type EnvName } from '../../shared/env.js';
import { fail, ok } from '../../shared/result.js';

/** What `npm run up42` needs from the environment, read once at start. */
export interface Up42Config {
  username: string;
  password: string;
  /** null: the access token's subject is the workspace. */
  workspaceId: string | null;
  /** Without a trailing slash. */
  authUrl: string;
  /** Without a trailing slash. */
  apiUrl: string;
}

function baseUrl(env: Env, name: EnvName, problems: string[]): string {
  const raw = readEnv(env, name) ?? envDefault(name) ?? '';
  try {
    const url = new URL(raw);
    if (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      !url.username &&
      !url.password &&
      !url.search &&
      !url.hash
    ) {
      return url.toString().replace(/\/+$/, '');
    }
  } catch {
    // reported below
  }
  problems.push(`${describeName(name)} must be an http(s) base URL without credentials or query`);
  return '';
}

export function parseUp42Config(env: Env): ConfigResult<Up42Config> {
  const problems: string[] = [];
  const username = readEnv(env, 'UP42_USERNAME');
  const password = readEnv(env, 'UP42_PASSWORD');
  if (username === undefined)
    problems.push(`${describeName('UP42_USERNAME')} is not set: the UP42 account to sign in with`);
  if (password === undefined)
    problems.push(`${describeName('UP42_PASSWORD')} is not set: the password of that account`);
  const workspaceId = readEnv(env, 'UP42_WORKSPACE_ID') ?? null;
  if (workspaceId !== null && !/^[A-Za-z0-9_-]+$/.test(workspaceId)) {
    problems.push(`${describeName('UP42_WORKSPACE_ID')} must be a workspace id (letters, digits, - and _)`);
  }
  const authUrl = baseUrl(env, 'UP42_AUTH_URL', problems);
  const apiUrl = baseUrl(env, 'UP42_API_URL', problems);
  if (problems.length > 0) return fail('invalid-config', `configuration error: ${problems.join('; ')}`);
  return ok({ username: username!, password: password!, workspaceId, authUrl, apiUrl });
}
