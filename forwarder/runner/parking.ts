import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunContext } from '../pipedream.js';
import type { Resume, RunResult, Trigger } from './workflow.js';

/**
 * The runner's `$.flow.rerun`: a parked workflow is one JSON file in FORWARDER_DATA_DIR, written and synced
 * before the sender gets its `202`, run again after its delay, rewritten when it parks again and removed once
 * it has run on. On start every file left there is resumed (at once when its time has passed), so stopping or
 * killing the runner loses none. A delivery that reached the sink just before a kill is resumed and sent
 * again; the sink stores each messageId once.
 */

export interface ParkedRun {
  id: string;
  trigger: Trigger;
  /** The step to run again and the steps before it, as they exported. */
  index: number;
  step: string;
  steps: Record<string, Record<string, unknown>>;
  /** The run to come (`$.context.run`), and the most reruns the step asked for. */
  run: RunContext;
  maxRetries: number;
  parkedAt: string;
  nextTryAt: string;
  summary: string | null;
}

/** What `GET /parked` shows of a parked run: where it is and what it carries, never its headers or body. */
export interface ParkedView {
  id: string;
  step: string;
  nextTryAt: string;
  parkedAt: string;
  runs: number;
  maxRetries: number;
  summary: string | null;
  messageId: unknown;
  event: unknown;
  status: unknown;
}

export interface Parking {
  /** Keeps the run durably; resolves once it is on disk, with when it will be tried again. */
  park(result: RunResult, trigger: Trigger): Promise<ParkedRun>;
  list(): ParkedView[];
  close(): void;
}

export interface ParkingOptions {
  /** null: kept in memory only (an embedded runner without FORWARDER_DATA_DIR, as some tests start). */
  dir: string | null;
  /** Runs a parked workflow on from where it waited. */
  resume(trigger: Trigger, resume: Resume): Promise<RunResult>;
  /** Told of every resumed run's result, for the log. */
  onResumed(result: RunResult, parked: ParkedRun, durationMs: number): void;
  onError(message: string): void;
}

const SUFFIX = '.json';

/** Writes `text` to `path` through a synced temporary file and a rename, then syncs the folder. */
async function writeDurably(dir: string, name: string, text: string): Promise<void> {
  const temporary = join(dir, `${name}.tmp`);
  const file = await open(temporary, 'w');
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, join(dir, name));
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems cannot sync a folder; the rename is then as durable as they make it.
  } finally {
    await handle.close();
  }
}

function summaryOf(result: RunResult): string | null {
  const exports = result.step ? result.steps[result.step] : undefined;
  return typeof exports?.$summary === 'string' ? exports.$summary : null;
}

function view(parked: ParkedRun): ParkedView {
  const validated = Object.values(parked.steps).find((exports) => 'messageId' in exports) ?? {};
  return {
    id: parked.id,
    step: parked.step,
    nextTryAt: parked.nextTryAt,
    parkedAt: parked.parkedAt,
    runs: parked.run.runs - 1,
    maxRetries: parked.maxRetries,
    summary: parked.summary,
    messageId: validated.messageId ?? null,
    event: validated.event ?? null,
    status: validated.status ?? null,
  };
}

function parkedFrom(id: string, parkedAt: string, result: RunResult, trigger: Trigger): ParkedRun {
  const at = result.parked!;
  const steps: Record<string, Record<string, unknown>> = {};
  for (const [name, exports] of Object.entries(result.steps)) if (name !== result.step) steps[name] = exports;
  return {
    id,
    trigger,
    index: at.index,
    step: result.step!,
    steps,
    run: at.run,
    maxRetries: at.maxRetries,
    parkedAt,
    nextTryAt: new Date(Date.now() + at.delayMs).toISOString(),
    summary: summaryOf(result),
  };
}

export async function openParking(options: ParkingOptions): Promise<Parking> {
  const { dir } = options;
  if (dir !== null) await mkdir(dir, { recursive: true });
  const parked = new Map<string, ParkedRun>();
  const timers = new Map<string, NodeJS.Timeout>();
  let closed = false;

  const save = async (run: ParkedRun) => {
    if (dir !== null) await writeDurably(dir, `${run.id}${SUFFIX}`, `${JSON.stringify(run)}\n`);
  };
  const remove = async (id: string) => {
    if (dir !== null) await rm(join(dir, `${id}${SUFFIX}`), { force: true });
  };

  const schedule = (run: ParkedRun) => {
    parked.set(run.id, run);
    const delay = Math.max(0, Date.parse(run.nextTryAt) - Date.now());
    const failed = (error: unknown) => options.onError(`parked run ${run.id} failed: ${(error as Error).message}`);
    timers.set(
      run.id,
      setTimeout(() => void wake(run).catch(failed), delay),
    );
  };

  const wake = async (run: ParkedRun) => {
    timers.delete(run.id);
    if (closed) return;
    const started = Date.now();
    const resume = { index: run.index, run: run.run, steps: run.steps };
    const result = await options.resume(run.trigger, resume);
    if (closed) return; // the file stays: the next start runs it again
    try {
      if (result.outcome === 'parked') {
        const again = parkedFrom(run.id, run.parkedAt, result, run.trigger);
        await save(again);
        schedule(again);
      } else {
        parked.delete(run.id);
        await remove(run.id);
      }
    } catch (error) {
      // The file on disk still holds the run: it is tried again at the next start.
      parked.delete(run.id);
      options.onError(`could not keep the parked run ${run.id}: ${(error as Error).message}`);
    }
    options.onResumed(result, run, Date.now() - started);
  };

  for (const name of dir === null ? [] : await readdir(dir)) {
    if (name.endsWith('.tmp')) await rm(join(dir!, name), { force: true });
    if (!name.endsWith(SUFFIX)) continue;
    try {
      schedule(JSON.parse(await readFile(join(dir!, name), 'utf8')) as ParkedRun);
    } catch (error) {
      options.onError(`cannot read the parked run ${name}, left in place: ${(error as Error).message}`);
    }
  }

  return {
    async park(result, trigger) {
      const run = parkedFrom(randomUUID(), new Date().toISOString(), result, trigger);
      await save(run);
      schedule(run);
      return run;
    },
    list: () => [...parked.values()].map(view).sort((a, b) => a.nextTryAt.localeCompare(b.nextTryAt)),
    close() {
      closed = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
