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
  /**
   * The body exactly as received. Pipedream's trigger does not provide it by default; the local runner does,
   * so that a signed content digest can be checked there.
   */
  bodyRaw?: string;
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
  };
  respond?(response: CustomResponse): unknown;
}

export interface StepsOf {
  trigger: { event: HttpTriggerEvent };
  [step: string]: unknown;
}
