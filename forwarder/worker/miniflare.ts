import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Miniflare, MiniflareOptions } from 'miniflare';
import { ENV_VARS, type Env, type EnvVar } from '../../shared/env.js';
import { REPO_ROOT } from '../manifest.js';
import type { DurableObjectNamespace } from './runtime-types.js';

/**
 * The Worker in workerd through Miniflare, set up from wrangler.json (compatibility date and flags, the outbox's
 * Durable Object), so `npm run worker` and the tests run what `wrangler deploy` deploys.
 */
interface WranglerJson {
  compatibility_date: string;
  compatibility_flags: string[];
  durable_objects: { bindings: { name: string; class_name: string }[] };
}

export const WRANGLER_JSON = join(REPO_ROOT, 'wrangler.json');

/** The forwarder's and the Worker's variables (names and aliases) that are set: the Worker's vars and secrets. */
export function workerBindings(env: Env): Record<string, string> {
  const bindings: Record<string, string> = {};
  for (const spec of ENV_VARS as readonly EnvVar[]) {
    if (!spec.parts.includes('forwarder') && !spec.parts.includes('worker')) continue;
    for (const name of [spec.name, spec.alias]) {
      const value = name === undefined ? undefined : env[name];
      if (name !== undefined && value !== undefined && value.trim() !== '') bindings[name] = value;
    }
  }
  return bindings;
}

export function miniflareOptions(o: {
  scriptPath: string;
  bindings: Record<string, string>;
  /** Folder of the outbox's storage; null keeps it in memory (gone when workerd stops). */
  persistDir: string | null;
  port: number;
  /** Each line workerd prints (the outbox's one line per delivery); unset, Miniflare prints them itself. */
  onLine?: (line: string) => void;
}): MiniflareOptions {
  const wrangler = JSON.parse(readFileSync(WRANGLER_JSON, 'utf8')) as WranglerJson;
  const durableObjects: Record<string, { className: string; useSQLite: boolean }> = {};
  for (const binding of wrangler.durable_objects.bindings)
    durableObjects[binding.name] = { className: binding.class_name, useSQLite: true };
  return {
    scriptPath: o.scriptPath,
    modules: true,
    // Module names relative to the script's own folder: a script outside the working directory (a test's
    // temporary build) would otherwise get a name starting with ../, which workerd cannot load.
    modulesRoot: dirname(o.scriptPath),
    compatibilityDate: wrangler.compatibility_date,
    compatibilityFlags: wrangler.compatibility_flags,
    durableObjects,
    durableObjectsPersist: o.persistDir ?? false,
    bindings: o.bindings,
    host: '127.0.0.1',
    port: o.port,
    ...(o.onLine
      ? { handleRuntimeStdio: (stdout: Readable, stderr: Readable) => lines([stdout, stderr], o.onLine!) }
      : {}),
  };
}

function lines(streams: Readable[], onLine: (line: string) => void): void {
  for (const stream of streams) createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}

/**
 * Wakes the outbox of a freshly started runtime, so deliveries kept before a restart go on at once rather than
 * when the next one arrives. Says whether any wait.
 */
export async function wakeOutbox(mf: Miniflare): Promise<boolean> {
  const outbox = (await mf.getDurableObjectNamespace('OUTBOX')) as unknown as DurableObjectNamespace;
  const woken = await outbox.get(outbox.idFromName('outbox')).fetch('https://outbox/start', { method: 'POST' });
  return ((await woken.json()) as { waiting: boolean }).waiting;
}
