import { ConfigurationError } from '@pipedream/platform';

/**
 * The errors the steps throw. A thrown error fails a Pipedream run (visible and replayable in its event
 * history); `code` says which kind of failure it is, so a caller can tell them apart without reading messages.
 * Messages never carry a secret, a password or an Authorization value.
 */
export type StepErrorCode = 'signature' | 'sink' | 'config';

export interface StepError extends Error {
  code: StepErrorCode;
  /** A short machine-readable reason, such as `stale` or `unreachable`. */
  reason: string;
}

const NAMES: Record<StepErrorCode, string> = {
  signature: 'SignatureRejected',
  sink: 'SinkError',
  config: 'ConfigurationError',
};

export function stepError(code: StepErrorCode, reason: string, message: string): StepError {
  const error = new Error(message) as StepError;
  error.name = NAMES[code];
  error.code = code;
  error.reason = reason;
  return error;
}

/**
 * A configuration problem, as Pipedream's own components report one (`ConfigurationError` from
 * `@pipedream/platform`, shown in the UI as a problem to fix in the settings rather than a crash), with the
 * same `code` and `reason` as every step error.
 */
export function configurationError(message: string): StepError {
  const error = new ConfigurationError(message) as ConfigurationError & StepError;
  error.code = 'config';
  error.reason = 'invalid-config';
  return error;
}

export function isStepError(error: unknown): error is StepError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as Partial<StepError>).reason === 'string' &&
    Object.hasOwn(NAMES, String((error as Partial<StepError>).code))
  );
}
