import { parse } from 'dotenv';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigResult } from '../shared/config.js';
import { checkEnvNames } from '../shared/env-names.js';

/**
 * The start of every Node part (the sink, `npm run worker`, the CLIs), written once: read `.env`, check every
 * variable name, parse the configuration, and on any problem print them all and exit 2. It lives in sink/
 * because every Node host may import sink/ (test/architecture.test.ts), and shared/ does no I/O.
 */

/** The `.env` of the working folder, parsed from the file itself (its keys, not process.env's), or {} if none. */
function readDotenv(path: string): Record<string, string> {
  try {
    return parse(readFileSync(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

/**
 * Loads `.env` into process.env (never over a variable already set, as dotenv does), warns about names in the
 * environment that look like ours but are not, and returns the problems of `.env`'s names: one line each.
 */
export function loadEnv(prefix: string, path = resolve('.env')): string[] {
  const fromFile = readDotenv(path);
  const { errors, warnings } = checkEnvNames(Object.keys(fromFile), Object.keys(process.env));
  for (const line of warnings) process.stderr.write(`${prefix}warning: ${line}\n`);
  for (const [name, value] of Object.entries(fromFile)) if (process.env[name] === undefined) process.env[name] = value;
  return errors;
}

/** Prints each problem on its own line and exits 2, the configuration error of every part. */
export function exitWithProblems(prefix: string, problems: readonly string[]): never {
  for (const line of problems) process.stderr.write(`${prefix}${line}\n`);
  process.exit(2);
}

/**
 * `.env` loaded and checked, then each parser run on the environment: the parsed configurations, or exit 2
 * with every problem of the names and of the values together, so one start lists all there is to fix.
 */
export function startConfig<T extends unknown[]>(
  prefix: string,
  ...parsers: { [K in keyof T]: (env: NodeJS.ProcessEnv) => ConfigResult<T[K]> }
): T {
  const nameProblems = loadEnv(prefix);
  const results = parsers.map((parse) => parse(process.env));
  const problems = [...results.flatMap((r) => (r.ok ? [] : [r.message])), ...nameProblems];
  if (problems.length > 0) exitWithProblems(prefix, problems);
  return results.map((r) => (r.ok ? r.value : undefined)) as T;
}

/** Why a part could not start, one line; a port clash names the variable that moves it. */
export function startError(err: unknown, portVariable: string, port: number): string {
  const message = err instanceof Error ? err.message : String(err);
  if ((err as NodeJS.ErrnoException | null)?.code !== 'EADDRINUSE' && !message.includes('EADDRINUSE')) return message;
  // EADDRINUSE stays in the line: it is the word people (and scripts that retry) search for.
  return `port ${port} is already in use (EADDRINUSE, another copy or program): set ${portVariable} to a free one`;
}
