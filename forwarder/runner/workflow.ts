import { isStepError } from '../errors.js';
import type { CustomResponse, HttpRawEvent, HttpTriggerEvent, RunContext } from '../pipedream.js';
import { recordingContext, type Component } from './runtime.js';

/** Runs a workflow's steps in order on one trigger event, as Pipedream does, and says how it ended. */

export interface LoadedStep {
  name: string;
  component: Component;
}

export type Outcome = 'forwarded' | 'ignored' | 'parked' | 'rejected' | 'sink-failed' | 'config-error' | 'error';

export const HTTP_STATUS: Record<Outcome, number> = {
  forwarded: 200,
  ignored: 202,
  parked: 202,
  rejected: 401,
  'sink-failed': 502,
  'config-error': 500,
  error: 500,
};

export interface RunResult {
  outcome: Outcome;
  /** Short and machine-readable: `stale`, `unreachable`, or the exit reason. */
  reason?: string;
  message?: string;
  /** The step that ended the run, by exit or failure. */
  step?: string;
  /** Each step's exports and `$return_value`, as later steps see them under `steps.<name>`. */
  steps: Record<string, Record<string, unknown>>;
  /** Set when a step called `$.respond`. */
  response?: CustomResponse;
  /** Set when a step called `$.flow.rerun`: where and when the workflow goes on. */
  parked?: ParkedAt;
}

/** `steps.trigger` of an HTTP-triggered workflow. */
export interface Trigger {
  event: HttpTriggerEvent;
  raw_event: HttpRawEvent;
}

/** A workflow waiting on `$.flow.rerun`: step `index` runs again after `delayMs` as run `run.runs`. */
export interface ParkedAt {
  index: number;
  delayMs: number;
  maxRetries: number;
  run: RunContext;
}

/** Where a parked workflow goes on: the step to run again, the steps before it as they exported. */
export interface Resume {
  index: number;
  run: RunContext;
  steps: Record<string, Record<string, unknown>>;
}

export const DEFAULT_STEP_TIMEOUT_MS = 30_000;

const TIMED_OUT = Symbol('step timed out');

/** Pipedream stops a step at its timeout; the runner stops waiting (the step's own deadline should come first). */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(TIMED_OUT), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs the steps from the first (or from `resume`), each with its `$`. A step that called `$.flow.rerun` ends
 * the run there as `parked` (Pipedream runs it again after the delay); past `maxRetries` reruns the call is
 * ignored and the workflow goes on, as Pipedream documents.
 */
export async function runWorkflow(
  steps: readonly LoadedStep[],
  trigger: Trigger,
  options: { stepTimeoutMs?: number; resume?: Resume } = {},
): Promise<RunResult> {
  const stepTimeoutMs = options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const seen: Record<string, Record<string, unknown>> = { ...options.resume?.steps };
  const stepsArg: Record<string, unknown> = { trigger, ...options.resume?.steps };
  let response: CustomResponse | undefined;
  const first = options.resume?.index ?? 0;
  for (const [index, step] of steps.entries()) {
    if (index < first) continue;
    const run = index === first && options.resume ? options.resume.run : { runs: 1 };
    const context = recordingContext(run);
    seen[step.name] = context.exports;
    try {
      const running = Promise.resolve(step.component.run.call({}, { steps: stepsArg, $: context.$ }));
      const value = await withTimeout(running, stepTimeoutMs);
      const returned = value === undefined ? undefined : JSON.parse(JSON.stringify(value) ?? 'null');
      seen[step.name] = { ...context.exports, $return_value: returned };
      stepsArg[step.name] = seen[step.name];
    } catch (error) {
      const r = context.response();
      return {
        ...failure(step.name, error, stepTimeoutMs),
        steps: seen,
        response: r ?? response,
      };
    }
    response = context.response() ?? response;
    const rerun = context.rerun();
    if (rerun !== null && run.runs <= rerun.maxRetries) {
      const next = { runs: run.runs + 1, context: rerun.context };
      const parked = { index, delayMs: rerun.delayMs, maxRetries: rerun.maxRetries, run: next };
      return { outcome: 'parked', step: step.name, steps: seen, parked, response };
    }
    const exit = context.exitReason();
    if (exit !== null) {
      return { outcome: 'ignored', reason: exit, step: step.name, steps: seen, response };
    }
  }
  return { outcome: 'forwarded', steps: seen, response };
}

function failure(step: string, error: unknown, stepTimeoutMs: number): Omit<RunResult, 'steps'> {
  if (error === TIMED_OUT) {
    return {
      outcome: 'error',
      reason: 'step-timeout',
      message: `step ${step} timed out after ${stepTimeoutMs} ms`,
      step,
    };
  }
  if (isStepError(error)) {
    const outcome: Outcome =
      error.code === 'signature' ? 'rejected' : error.code === 'sink' ? 'sink-failed' : 'config-error';
    return { outcome, reason: error.reason, message: error.message, step };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { outcome: 'error', reason: 'step-failed', message: `step ${step} failed: ${message}`, step };
}
