import type { Env } from '../../shared/env.js';
import type { WorkerEnv } from './runtime-types.js';

/** The Worker's variables and secrets: its string bindings, read by the same parsers as every other host. */
export function stringBindings(env: WorkerEnv): Env {
  const strings: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === 'string') strings[name] = value;
  return strings;
}
