import type { HttpRawEvent, HttpTriggerEvent } from './pipedream.js';
import type { RawBody } from './forward.js';

/**
 * The bytes UP42 sent, from `steps.trigger.raw_event.body_b64`, with the `Content-Type` they came with; null
 * when the trigger does not give them (the steps then fall back to the parsed body, serialised again).
 */
export function rawBodyOf(
  event: Pick<HttpTriggerEvent, 'headers'>,
  rawEvent: HttpRawEvent | undefined,
): RawBody | null {
  const b64 = rawEvent?.body_b64;
  if (typeof b64 !== 'string') return null;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  return { text, contentType: event.headers['content-type'] ?? 'application/json' };
}
