import { signedDeliveryHeaders } from '../../shared/signature.js';
import { makeEvent, type Up42EventType } from '../../shared/events.js';

/** Signed UP42-style deliveries for the forwarder tests. */

let counter = 0;

export function event(
  options: { event?: Up42EventType; status?: string; liveMode?: boolean; messageId?: string } = {},
) {
  counter += 1;
  return makeEvent({
    event: options.event ?? 'job.status',
    status: options.status ?? 'FAILED',
    liveMode: options.liveMode ?? true,
    messageId: options.messageId ?? `msg-${process.pid}-${counter}-${Date.now()}`,
    timestamp: new Date().toISOString(),
  });
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** POSTs `payload` to `url`, signed with `secret` at `created` (now by default); `tamper` edits the request last. */
export async function deliver(
  url: string,
  payload: unknown,
  options: {
    secret?: string;
    created?: number;
    /** The signed headers; UP42's strong set (content-type, date, content-digest) by default. */
    components?: readonly string[];
    tamper?: (request: { headers: Record<string, string>; body: string }) => void;
  } = {},
): Promise<{ status: number; json: Record<string, unknown>; text: string; headers: Headers }> {
  const body = JSON.stringify(payload);
  const headers =
    options.secret === undefined
      ? { 'content-type': 'application/json' }
      : signedDeliveryHeaders({
          body,
          secret: options.secret,
          created: options.created ?? nowSeconds(),
          components: options.components,
        });
  const request = { headers: { ...headers }, body };
  options.tamper?.(request);
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Some answers are not JSON.
  }
  return { status: response.status, json, text, headers: response.headers };
}
