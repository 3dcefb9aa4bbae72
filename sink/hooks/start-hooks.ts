import { promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import type { SinkConfig } from '../../shared/config.js';
import { parseDumpQuery } from '../dump-query.js';
import type { WebhookStore } from '../store/types.js';
import { hookCursor } from './cursor.js';
import { hookEnvironment } from './hook-env.js';
import { startHookRunner, type HookRunner } from './hook-runner.js';

/** Starts the hook when SINK_HOOK_COMMAND is set; null otherwise. A filter that is not the dump's syntax throws. */
export async function startHooks(
  config: SinkConfig,
  store: WebhookStore,
  log: (line: string) => void,
  warn: (line: string) => void,
): Promise<HookRunner | null> {
  if (config.hook === null) return null;
  const query = parseDumpQuery(new URLSearchParams(config.hook.filter));
  if (!query.ok) throw new Error(`SINK_HOOK_FILTER is not the dump's query syntax: ${query.message}`);
  const dataDir = resolve(config.dataDir);
  await fsp.mkdir(dataDir, { recursive: true });
  const runner = await startHookRunner({
    settings: {
      command: config.hook.command,
      filter: query.value.filter,
      filterText: config.hook.filter,
      timeoutMs: config.hook.timeoutSeconds * 1000,
      fromKey: config.hook.fromKey,
      baseEnv: hookEnvironment(process.env),
      cwd: process.cwd(),
    },
    store,
    cursor: hookCursor(dataDir),
    log,
    warn,
  });
  log(
    `hook on: ${config.hook.filter === '' ? 'every webhook' : config.hook.filter}, ` +
      `from key ${runner.status().cursor + 1}`,
  );
  return runner;
}
