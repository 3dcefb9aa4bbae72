import type { RecordFilter, StoredRecord, WebhookStore } from '../store/types.js';
import type { HookCursor } from './cursor.js';
import { webhookEnv } from './hook-env.js';
import { runCommand, type CommandRun, type RunningCommand } from './run-command.js';

/**
 * SINK_HOOK_COMMAND, run for each stored webhook matching SINK_HOOK_FILTER, one at a time, in key order, at
 * least once: the cursor moves past a webhook only once its command exited 0. A failure or a timeout is tried
 * again after a growing pause, never skipped; a sink stopped or killed mid-run runs that webhook again on start.
 */
export interface HookSettings {
  command: string;
  filter: RecordFilter;
  /** The filter as configured, for GET /hooks. */
  filterText: string;
  timeoutMs: number;
  /** Where a hook without a cursor starts: this key, or (null) the next webhook stored. */
  fromKey: number | null;
  /** The environment the command runs in, before the webhook's own variables. */
  baseEnv: NodeJS.ProcessEnv;
  cwd: string;
}

export interface HookStatus {
  configured: true;
  filter: string;
  cursor: number;
  running: { key: number; startedAt: string } | null;
  lastRun: {
    key: number;
    ok: boolean;
    exitCode: number | null;
    timedOut: boolean;
    /** Why the command could not be started, or null. */
    error: string | null;
    durationMs: number;
    finishedAt: string;
  } | null;
  failing: {
    key: number;
    attempts: number;
    exitCode: number | null;
    timedOut: boolean;
    error: string | null;
    nextTryAt: string;
  } | null;
}

export interface HookRunner {
  status(): HookStatus;
  /** Stops the loop and the command in progress (which runs again after the next start). */
  stop(): Promise<void>;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 5 * 60_000;

/** 1 s, 2 s, 4 s, … at most 5 min: a hook that fails for long is not hammered. */
export const retryDelayMs = (attempts: number) => Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempts - 1));

async function firstMatch(store: WebhookStore, filter: RecordFilter, after: number): Promise<StoredRecord | null> {
  // Not a transient read: the body handed out stays the hook's, so it needs no copy.
  for await (const record of store.records({ ...filter, since: after, limit: 1, order: 'asc' })) return record;
  return null;
}

export async function startHookRunner(options: {
  settings: HookSettings;
  store: WebhookStore;
  cursor: HookCursor;
  log: (line: string) => void;
  warn: (line: string) => void;
}): Promise<HookRunner> {
  const { settings, store, log, warn } = options;
  const saved = await options.cursor.read();
  let cursor = saved ?? (settings.fromKey !== null ? settings.fromKey - 1 : store.lastKey);
  if (saved === null) await options.cursor.write(cursor);

  let stopped = false;
  let running: { key: number; startedAt: number; command: RunningCommand } | null = null;
  let lastRun: HookStatus['lastRun'] = null;
  let failing: HookStatus['failing'] = null;
  /** Bumped by a clear: a run that began before it must not move the cursor of the new numbering. */
  let generation = 0;
  // One waiter at a time. `news` remembers an append or a clear that came while nobody waited, so a webhook
  // stored between the look-up and the wait is never missed; a retry's pause ends early only on a stop or a clear.
  let waiter: { resolve: () => void; onNews: boolean } | null = null;
  let news = false;
  const wakeUp = (why: 'news' | 'stop') => {
    if (why === 'news') news = true;
    if (waiter !== null && (why === 'stop' || waiter.onNews)) {
      waiter.resolve();
      waiter = null;
    }
  };
  const unsubscribe = store.subscribe(
    () => wakeUp('news'),
    () => {
      generation += 1;
      cursor = 0;
      failing = null;
      running?.command.kill();
      void options.cursor.write(0).catch((err: unknown) => warn(`hook: could not save the cursor: ${String(err)}`));
      wakeUp('stop');
    },
  );
  /** Until a webhook is stored (ms null), or for `ms`. */
  const pause = (ms: number | null) =>
    new Promise<void>((resolve) => {
      if (ms === null && news) {
        news = false;
        resolve();
        return;
      }
      const timer = ms === null ? null : setTimeout(() => wakeUp('stop'), ms);
      waiter = {
        onNews: ms === null,
        resolve: () => {
          if (timer !== null) clearTimeout(timer);
          news = false;
          resolve();
        },
      };
    });

  const runOne = async (record: StoredRecord): Promise<CommandRun> => {
    const command = runCommand({
      command: settings.command,
      stdin: record.body,
      env: { ...settings.baseEnv, ...webhookEnv(record) },
      cwd: settings.cwd,
      timeoutMs: settings.timeoutMs,
      onLine: (line) => log(`hook ${record.key}: ${line}`),
    });
    running = { key: record.key, startedAt: Date.now(), command };
    try {
      return await command.done;
    } finally {
      running = null;
    }
  };

  let attempts = 0;
  /** One webhook's run, or the wait for the next one; the pause before the next step (null: none). */
  const step = async (): Promise<number | null> => {
    const seen = generation;
    news = false;
    const record = await firstMatch(store, settings.filter, cursor);
    if (stopped) return null;
    if (record === null) {
      await pause(null);
      return null;
    }
    const run = await runOne(record);
    if (stopped || seen !== generation) {
      attempts = 0;
      return null;
    }
    const { ok, exitCode, timedOut, error, durationMs } = run;
    lastRun = { key: record.key, ok, exitCode, timedOut, error, durationMs, finishedAt: new Date().toISOString() };
    if (run.ok) {
      log(`hook ${record.key}: done (exit 0, ${run.durationMs} ms)`);
      attempts = 0;
      failing = null;
      cursor = record.key;
      await options.cursor.write(cursor);
      return null;
    }
    attempts += 1;
    const delay = retryDelayMs(attempts);
    const why = run.timedOut
      ? `timed out after ${settings.timeoutMs / 1000} s`
      : run.error !== null
        ? `could not start: ${run.error}`
        : `exit ${run.exitCode ?? run.signal ?? 'error'}`;
    warn(`hook ${record.key}: failed (${why}), attempt ${attempts}; trying again in ${delay / 1000} s`);
    failing = {
      key: record.key,
      attempts,
      exitCode,
      timedOut,
      error,
      nextTryAt: new Date(Date.now() + delay).toISOString(),
    };
    return delay;
  };

  // The loop outlives any error: a store out of reach or a cursor that cannot be saved is tried again after
  // the same growing pause as a failed run, so the hook never stops for good while the sink runs.
  const loop = async () => {
    let errors = 0;
    while (!stopped) {
      let delay: number | null;
      try {
        delay = await step();
        errors = 0;
      } catch (err) {
        errors += 1;
        delay = retryDelayMs(errors);
        warn(`hook: ${err instanceof Error ? err.message : String(err)}; trying again in ${delay / 1000} s`);
      }
      if (delay !== null && !stopped) await pause(delay);
    }
  };
  const done = loop();

  return {
    status: () => ({
      configured: true,
      filter: settings.filterText,
      cursor,
      running: running === null ? null : { key: running.key, startedAt: new Date(running.startedAt).toISOString() },
      lastRun,
      failing,
    }),
    async stop() {
      stopped = true;
      unsubscribe();
      running?.command.kill();
      wakeUp('stop');
      await done;
    },
  };
}
