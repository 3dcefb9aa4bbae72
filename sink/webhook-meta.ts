import type { RecordMeta } from './store/types.js';

/** The fields filters and idempotency use, from a parsed body of any shape. Pure, never throws. */
export function webhookMeta(value: unknown): RecordMeta {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { messageId: null, event: null, status: null, liveMode: null };
  }
  const v = value as Record<string, unknown>;
  const body = v.body;
  const inner =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>).status
      : undefined;
  const status = typeof inner === 'string' ? inner : typeof v.status === 'string' ? v.status : null;
  return {
    messageId: typeof v.messageId === 'string' && v.messageId !== '' ? v.messageId : null,
    event: typeof v.event === 'string' ? v.event : null,
    status,
    liveMode: typeof v.liveMode === 'boolean' ? v.liveMode : null,
  };
}
