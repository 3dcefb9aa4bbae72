import type { BasicAuth, ConfigResult } from './config.js';
import { describeName, envDefault, readEnv, type Env, type EnvName } from './env.js';
import { fail, ok } from './result.js';

/** How configuration values are read: the one reader every part's parser uses, and the formats it accepts. */

/** Collects problems while reading variables, so one run reports all of them. */
export function reader(env: Env) {
  const problems: string[] = [];
  const value = (name: EnvName) => readEnv(env, name) ?? envDefault(name);
  const required = (name: EnvName, why: string): string => {
    const v = readEnv(env, name);
    if (v === undefined) problems.push(`${describeName(name)} is not set: ${why}`);
    return v ?? '';
  };
  const integer = (name: EnvName, min: number, max: number): number => {
    const raw = value(name) ?? '';
    if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${describeName(name)} must be a whole number from ${min} to ${max}`);
      return min;
    }
    return Number(raw);
  };
  const bytes = (name: EnvName): number => {
    const raw = value(name) ?? '';
    const parsed = parseByteSize(raw);
    if (parsed === null)
      problems.push(`${describeName(name)} must be a positive number of bytes, such as 1048576 or 1M`);
    return parsed ?? 0;
  };
  const flag = (name: EnvName): boolean => {
    const raw = (value(name) ?? 'no').toLowerCase();
    if (['yes', 'true', '1', 'on'].includes(raw)) return true;
    if (['no', 'false', '0', 'off'].includes(raw)) return false;
    problems.push(`${describeName(name)} must be yes or no`);
    return false;
  };
  /** Seconds, comma-separated, each from 1 s to a year (Pipedream's longest delay); at most 100 of them. */
  const delays = (name: EnvName): number[] => {
    const parts = (value(name) ?? '').split(',').map((part) => part.trim());
    const valid =
      parts.length <= 100 && parts.every((p) => /^[0-9]+$/.test(p) && Number(p) >= 1 && Number(p) <= 31_536_000);
    if (!valid)
      problems.push(`${describeName(name)} must be 1 to 100 whole numbers of seconds (1 to 31536000), comma-separated`);
    return valid ? parts.map(Number) : [];
  };
  const auth = (): BasicAuth | null => {
    const user = readEnv(env, 'SINK_BASIC_AUTH_USER');
    const pass = readEnv(env, 'SINK_BASIC_AUTH_PASS');
    if (user === undefined && pass === undefined) return null;
    if (user === undefined || pass === undefined) {
      problems.push(
        `${describeName('SINK_BASIC_AUTH_USER')} and ${describeName('SINK_BASIC_AUTH_PASS')} must be set together`,
      );
      return null;
    }
    if (user.includes(':')) problems.push(`${describeName('SINK_BASIC_AUTH_USER')} must not contain ":"`);
    return { user, pass };
  };
  const done = <T>(config: T): ConfigResult<T> =>
    problems.length === 0 ? ok(config) : fail('invalid-config', `configuration error: ${problems.join('; ')}`);
  return { value, required, integer, bytes, flag, delays, auth, problems, done };
}

/** `1048576`, `1024K`, `1M`, `2G`, also `1MB`, `1MiB`, `512B` (binary multiples). */
export function parseByteSize(raw: string): number | null {
  // The "i" only after a unit: "5i" is a typo to report, not 5 bytes.
  const match = /^([0-9]+)\s*(?:([KMG])(?:i?B)?|B)?$/i.exec(raw.trim());
  if (!match) return null;
  const multiplier = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(match[2] ?? '').toUpperCase() as 'K' | 'M' | 'G'] ?? 1;
  const n = Number(match[1]) * multiplier;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** A sink URL as users paste it: with or without scheme, with or without a trailing slash. */
export function normalizeSinkUrl(raw: string): string | null {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  try {
    const url = new URL(withScheme);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    if (url.username || url.password || url.search || url.hash) return null;
    return url.toString().replace(/\/+$/, '');
  } catch {
    return null;
  }
}
