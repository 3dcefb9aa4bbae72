import { randomUUID } from 'node:crypto';
import { makeEvent, type Up42EventType } from '../../shared/events.js';
import { fail, ok, type Result } from '../../shared/result.js';
import { contentDigest } from '../../shared/digest.js';
import { signedDeliveryHeaders } from '../../shared/signature.js';

/** What each delivery carries: a sample UP42 event, or a payload of the user's own (from --file). */
export type PayloadSource =
  { kind: 'event'; event: Up42EventType; status: string; liveMode: boolean } | { kind: 'file'; payload: unknown };

export interface Delivery {
  messageId: string;
  /** Exactly the bytes that are sent and signed. */
  body: string;
  headers: Record<string, string>;
}

/** The default status of each event type: what a finished job or order reports. */
export const DEFAULT_STATUS: Record<Up42EventType, string> = { 'job.status': 'SUCCEEDED', 'order.status': 'FULFILLED' };

/**
 * The payload of one delivery. A file payload is sent as parsed, except that a top-level string `messageId`
 * is replaced by this delivery's, so repeated deliveries stay distinct webhooks to the receiver.
 */
export function makePayload(source: PayloadSource, messageId: string, timestamp: string): unknown {
  if (source.kind === 'event') {
    return makeEvent({ event: source.event, status: source.status, liveMode: source.liveMode, messageId, timestamp });
  }
  const payload = source.payload;
  if (
    typeof payload === 'object' &&
    payload !== null &&
    !Array.isArray(payload) &&
    typeof (payload as { messageId?: unknown }).messageId === 'string'
  ) {
    return { ...(payload as Record<string, unknown>), messageId };
  }
  return payload;
}

/** Reads --file's text: any JSON value is accepted (to test how receivers handle odd payloads). */
export function parsePayloadFile(text: string): Result<unknown, 'invalid-json'> {
  try {
    return ok(JSON.parse(text.replace(/^\uFEFF/, '')) as unknown);
  } catch (error) {
    return fail(
      'invalid-json',
      `the file is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * A delivery as UP42 makes it: compact JSON, then content type, date and content digest signed with the
 * webhook secret, `created` being the signature's time. Without a secret the same headers go out unsigned.
 */
export function buildDelivery(options: {
  source: PayloadSource;
  secret: string | null;
  created: number;
  messageId?: string;
  timestamp?: string;
}): Delivery {
  const messageId = options.messageId ?? randomUUID();
  const timestamp = options.timestamp ?? new Date().toISOString();
  const body = JSON.stringify(makePayload(options.source, messageId, timestamp));
  const headers =
    options.secret === null
      ? {
          'content-type': 'application/json',
          date: new Date(options.created * 1000).toUTCString(),
          'content-digest': contentDigest(body),
        }
      : signedDeliveryHeaders({ body, secret: options.secret, created: options.created });
  return { messageId, body, headers };
}
