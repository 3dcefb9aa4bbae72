import { stepEnv } from '../../shared/env.js';

/**
 * The variables each step reads, from the one table (shared/env.ts): its action's props; pipedream.yaml lists
 * the same per step, which test/forwarder/manifest.test.ts checks against the table.
 */
export const VALIDATE_ENV = stepEnv('validate');
export const FORWARD_ENV = stepEnv('forward');
