import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeName, readEnv, type Env } from '../../shared/env.js';
import { fail, ok, type Result } from '../../shared/result.js';

/** Exit codes of every script: 0 done, 1 the operation failed, 2 the command line is wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

type Options = NonNullable<ParseArgsConfig['options']>;
export type ParsedArgs = { values: Record<string, string | boolean | undefined>; positionals: string[] };

/** The values parseStrict gives for an options table, typed by each option's declared type. */
export type OptionValues<T extends Record<string, { type: 'string' | 'boolean' }>> = {
  [K in keyof T]?: T[K]['type'] extends 'string' ? string : boolean;
};

/**
 * node:util parseArgs in strict mode, with its thrown errors turned into a one-line usage failure.
 * Node's messages carry a hint about `--` that only confuses here, so only their first sentence is kept.
 */
export function parseStrict(
  argv: readonly string[],
  options: Options,
  allowPositionals: boolean,
): Result<ParsedArgs, 'usage'> {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals, strict: true });
    return ok({ values: values as ParsedArgs['values'], positionals });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fail('usage', firstSentence(message));
  }
}

function firstSentence(message: string): string {
  const line = message.split('\n')[0] ?? message;
  const end = line.search(/\.\s/);
  return end > 0 ? line.slice(0, end) : line.replace(/\.$/, '');
}

/** A whole number within bounds, for options such as --count; null when it is not one. */
export function parseWholeNumber(raw: string, min: number, max: number): number | null {
  if (!/^[0-9]+$/.test(raw.trim())) return null;
  const n = Number(raw.trim());
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

/** --timeout in seconds (fractions allowed), as milliseconds. */
export function parseTimeoutSeconds(raw: string): number | null {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw.trim())) return null;
  const ms = Math.round(Number(raw.trim()) * 1000);
  return ms >= 1 && ms <= 600_000 ? ms : null;
}

/** An absolute http(s) URL, or null. */
export function parseHttpUrl(raw: string): URL | null {
  try {
    const url = new URL(raw.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/**
 * The secret a sender signs with: --secret, else UP42_WEBHOOK_SECRET; null with --unsigned. A problem is added
 * when there is none, unless `optional` (a dry run signs nothing).
 */
export function signingSecret(
  v: { secret?: string | undefined; unsigned?: boolean | undefined },
  env: Env,
  problems: string[],
  optional = false,
): string | null {
  if (v.unsigned) {
    if (v.secret !== undefined) problems.push('--unsigned and --secret contradict each other');
    return null;
  }
  const secret = v.secret ?? readEnv(env, 'UP42_WEBHOOK_SECRET') ?? null;
  if ((secret === null || secret === '') && !optional) {
    problems.push(`no signing secret: pass --secret, set ${describeName('UP42_WEBHOOK_SECRET')}, or use --unsigned`);
  }
  return secret === '' ? null : secret;
}
