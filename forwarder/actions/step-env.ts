import type { EnvName } from '../../shared/env.js';

/** The variables each step reads; pipedream.yaml lists the same per step (a test keeps them in step). */
export const VALIDATE_ENV = [
  'UP42_WEBHOOK_SECRET',
  'UP42_WEBHOOK_SECRET_PREVIOUS',
  'UP42_TEST_MODE',
  'UP42_NOTIFY_STATUSES',
  'UP42_MAX_AGE_SECONDS',
  'UP42_MAX_FUTURE_SECONDS',
  'UP42_ACCEPT_WEAK_SIGNATURES',
] as const satisfies readonly EnvName[];

export const FORWARD_ENV = [
  'SINK_URL',
  'SINK_BASIC_AUTH_USER',
  'SINK_BASIC_AUTH_PASS',
  'FORWARD_MAX_ATTEMPTS',
  'FORWARD_DEADLINE_MS',
  'FORWARD_PARK_DELAYS',
] as const satisfies readonly EnvName[];
