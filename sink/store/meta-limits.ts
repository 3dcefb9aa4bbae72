import { fail, ok, type Result } from '../../shared/result.js';
import type { RecordMeta } from './types.js';

/**
 * What every store can index, checked once before a webhook is appended: PostgreSQL's btree indexes take at
 * most 2704 bytes a row and its text columns no NUL, and one such value in a batch used to fail every webhook
 * committed with it. The same rules hold for all three stores, so a webhook is accepted or refused alike
 * whichever store is behind the sink. Pure.
 */
export const META_LIMITS = { messageId: 256, event: 128, status: 128 } as const;

// C0 controls (NUL included) and DEL: no identifier or status of UP42's has them, and a terminal or a log
// line showing one would be garbled.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export type MetaProblem = 'too-long' | 'control-character';

/** ok, or why `meta` cannot be stored, naming the field and its limit (the 400's message). */
export function checkMeta(meta: RecordMeta): Result<RecordMeta, MetaProblem> {
  for (const field of ['messageId', 'event', 'status'] as const) {
    const value = meta[field];
    if (value === null) continue;
    const limit = META_LIMITS[field];
    if (value.length > limit) {
      return fail('too-long', `${field} is longer than ${limit} characters (${value.length})`);
    }
    if (CONTROL.test(value))
      return fail('control-character', `${field} holds a control character (NUL, line break, …)`);
  }
  return ok(meta);
}
