/** Reading the sink's replies: what it said, on one line, and which key it stored a webhook under. */

/** A short, single-line rendering of what the sink said: its `msg` when it sent JSON. */
export function sinkMessage(text: string): string {
  let message = text;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { msg?: unknown }).msg === 'string') {
      message = (parsed as { msg: string }).msg;
    }
  } catch {
    // Not JSON: the text itself.
  }
  message = message.replace(/\s+/g, ' ').trim();
  return message.length > 200 ? `${message.slice(0, 200)}...` : message;
}

/**
 * The sink's key and whether it already had the webhook, from its `X-Webhook-Key` and `X-Webhook-Duplicate`
 * headers; a sink without them (an older one) is read from its message, `value with key N (already) stored`.
 */
export function parseStoredReply(
  text: string,
  headers: { webhookKey?: string | undefined; webhookDuplicate?: string | undefined } = {},
): { reply: unknown; key: number | null; duplicate: boolean } {
  let reply: unknown = text;
  try {
    reply = JSON.parse(text);
  } catch {
    // Kept as text.
  }
  if (headers.webhookKey !== undefined && /^[0-9]+$/.test(headers.webhookKey.trim())) {
    return { reply, key: Number(headers.webhookKey.trim()), duplicate: headers.webhookDuplicate?.trim() === 'true' };
  }
  const match = /key\s+([0-9]+)\s+(already\s+)?stored/i.exec(sinkMessage(text));
  return { reply, key: match ? Number(match[1]) : null, duplicate: Boolean(match?.[2]) };
}
