import type { CustomResponse, StepContext } from '../pipedream.js';

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

/** A step's `$` and what the step did with it. */
export interface RecordingContext {
  $: StepContext;
  exports: Record<string, unknown>;
  exitReason: () => string | null;
  response: () => CustomResponse | null;
}

export function recordingContext(): RecordingContext {
  const exports: Record<string, unknown> = {};
  let exit: string | null = null;
  let response: CustomResponse | null = null;
  const $: StepContext = {
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
    },
    respond(r) {
      response = r;
    },
  };
  return { $, exports, exitReason: () => exit, response: () => response };
}
