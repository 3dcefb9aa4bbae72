import type { Env } from '../../shared/env.js';
import type { CustomResponse, RunContext, StepContext } from '../pipedream.js';

/** The pieces of Pipedream's runtime the steps need, for running them on this machine. */

export interface Component {
  run(this: Record<string, unknown>, context: { steps: Record<string, unknown>; $: StepContext }): unknown;
}

/** Pipedream's global; the runner's does what the platform's does for a code step: hands the object back. */
export function installDefineComponent(): void {
  const g = globalThis as { defineComponent?: <T extends object>(component: T) => T };
  g.defineComponent ??= (component) => component;
}

export function isComponent(value: unknown): value is Component {
  return typeof value === 'object' && value !== null && typeof (value as { run?: unknown }).run === 'function';
}

/**
 * A step module's component reading `env`: its `withEnv(() => env)` when it has one (the project's steps do),
 * else its default export, which reads `process.env` as on Pipedream.
 */
export function componentOf(module: unknown, env: Env): unknown {
  const m = (module ?? {}) as { default?: unknown; withEnv?: unknown };
  return typeof m.withEnv === 'function' ? (m.withEnv as (read: () => Env) => unknown)(() => env) : m.default;
}

/** What a step asked of `$.flow.rerun`. */
export interface RerunRequest {
  delayMs: number;
  context: unknown;
  maxRetries: number;
}

/** A step's `$` and what the step did with it. */
export interface RecordingContext {
  $: StepContext;
  exports: Record<string, unknown>;
  exitReason: () => string | null;
  response: () => CustomResponse | null;
  rerun: () => RerunRequest | null;
}

/** Pipedream's default for `$.flow.rerun`'s third argument. */
const DEFAULT_MAX_RETRIES = 10;

export function recordingContext(run: RunContext = { runs: 1 }): RecordingContext {
  const exports: Record<string, unknown> = {};
  let exit: string | null = null;
  let response: CustomResponse | null = null;
  let rerun: RerunRequest | null = null;
  const $: StepContext = {
    context: { run },
    export(name, value) {
      // Pipedream keeps exports as JSON; a value that cannot be one fails the step there too.
      const json = JSON.stringify(value);
      exports[name] = json === undefined ? null : JSON.parse(json);
    },
    flow: {
      // As on Pipedream: the workflow ends after this step; `return $.flow.exit()` ends the step at once.
      exit(reason) {
        exit = reason ?? 'flow exited';
      },
      // As on Pipedream: the step finishes, then the workflow waits and runs this step again. The context must
      // survive JSON, as it does there (the runner keeps it on disk).
      rerun(delayMs, context, maxRetries) {
        const json = JSON.stringify(context ?? null);
        const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
        rerun = { delayMs: delay, context: JSON.parse(json) as unknown, maxRetries: maxRetries ?? DEFAULT_MAX_RETRIES };
      },
    },
    respond(r) {
      response = r;
    },
  };
  return { $, exports, exitReason: () => exit, response: () => response, rerun: () => rerun };
}
