/**
 * The parts of Pipedream's runtime the steps use, as types only (nothing here reaches a built file).
 */

/** `steps.trigger.event` of an HTTP trigger. */
export interface HttpTriggerEvent {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** Keys lowercased by Pipedream. */
  headers: Record<string, string>;
  /** A JSON body arrives already parsed. */
  body: unknown;
  url: string;
  client_ip: string;
}

/**
 * `steps.trigger.raw_event` of an HTTP trigger: the request as received, its body base64-encoded. The signed
 * content digest is checked against these bytes, and the sink receives them unchanged.
 */
export interface HttpRawEvent {
  body_b64?: string;
}

/** `$.context.run` of a step: which run this is (from 1) and what the previous run passed to `$.flow.rerun`. */
export interface RunContext {
  runs: number;
  context?: unknown;
}

export interface CustomResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** The `$` of a step. */
export interface StepContext {
  /** JSON-serialisable values; `$summary` is shown in Pipedream's UI. */
  export(name: string, value: unknown): void;
  flow: {
    /** Ends the workflow cleanly at the end of this step; `return $.flow.exit(...)` ends it here. */
    exit(reason?: string): unknown;
    /**
     * Runs this step again after `delayMs`, with `context` in the next run's `$.context.run.context`, at most
     * `maxRetries` times; the workflow waits at the end of the step. When a step is tested in Pipedream's builder
     * it exists too, and the test run is then cancelled. Optional here only for hosts that lack it.
     */
    rerun?(delayMs: number, context: unknown, maxRetries: number): unknown;
  };
  context?: { run?: RunContext };
  respond?(response: CustomResponse): unknown;
}

export interface StepsOf {
  trigger: { event: HttpTriggerEvent; raw_event?: HttpRawEvent };
  [step: string]: unknown;
}
