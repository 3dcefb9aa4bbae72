import type { Env } from '../../shared/env.js';
import { isStepError } from '../errors.js';
import type { CustomResponse, HttpTriggerEvent } from '../pipedream.js';
import { withProcessEnv } from './process-env.js';
import { recordingContext, type Component } from './runtime.js';

/** Runs a workflow's steps in order on one trigger event, as Pipedream does, and says how it ended. */

export interface LoadedStep {
  name: string;
  component: Component;
}

export type Outcome = 'forwarded' | 'ignored' | 'rejected' | 'sink-failed' | 'config-error' | 'error';

export const HTTP_STATUS: Record<Outcome, number> = {
  forwarded: 200,
  ignored: 202,
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

export async function runWorkflow(
  steps: readonly LoadedStep[],
  event: HttpTriggerEvent,
  env: Env,
  options: { stepTimeoutMs?: number } = {},
): Promise<RunResult> {
  const stepTimeoutMs = options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const seen: Record<string, Record<string, unknown>> = {};
  const stepsArg: Record<string, unknown> = { trigger: { event } };
  let response: CustomResponse | undefined;
  for (const step of steps) {
    const context = recordingContext();
    seen[step.name] = context.exports;
    try {
      const value = await withTimeout(
        withProcessEnv(env, async () => step.component.run.call({}, { steps: stepsArg, $: context.$ })),
        stepTimeoutMs,
      );
      const returned = value === undefined ? undefined : JSON.parse(JSON.stringify(value) ?? 'null');
      seen[step.name] = { ...context.exports, ...(returned !== undefined ? { $return_value: returned } : {}) };
      stepsArg[step.name] = seen[step.name];
    } catch (error) {
      const r = context.response();
      return { ...failure(step.name, error, stepTimeoutMs), steps: seen, ...(r ? { response: r } : response ? { response } : {}) };
    }
    response = context.response() ?? response;
    const exit = context.exitReason();
    if (exit !== null) {
      return { outcome: 'ignored', reason: exit, step: step.name, steps: seen, ...(response ? { response } : {}) };
    }
  }
  return { outcome: 'forwarded', steps: seen, ...(response ? { response } : {}) };
}

function failure(step: string, error: unknown, stepTimeoutMs: number): Omit<RunResult, 'steps'> {
  if (error === TIMED_OUT) {
    return { outcome: 'error', reason: 'step-timeout', message: `step ${step} timed out after ${stepTimeoutMs} ms`, step };
  }
  if (isStepError(error)) {
    const outcome: Outcome = error.code === 'signature' ? 'rejected' : error.code === 'sink' ? 'sink-failed' : 'config-error';
    return { outcome, reason: error.reason, message: error.message, step };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { outcome: 'error', reason: 'step-failed', message: `step ${step} failed: ${message}`, step };
}
