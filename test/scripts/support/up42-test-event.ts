import { createHash, createHmac, randomUUID } from 'node:crypto';

/**
 * A test event as the fake UP42 sends one to a webhook's URL: `liveMode: false`, the job's id as `jobId` (as the
 * real test event on record has it), signed with the webhook's secret as UP42's scheme describes: the covered
 * header values run together, HMAC-SHA256, base64, made here with node's crypto rather than the code under test.
 */
export async function sendTestEvent(
  url: string,
  secret: string,
  event: string,
  components: readonly string[],
): Promise<{ url: string; status: number | null; body: string }> {
  const body = JSON.stringify({
    event,
    liveMode: false,
    messageId: randomUUID(),
    timestamp: new Date().toISOString(),
    body:
      event === 'order.status'
        ? { orderId: randomUUID(), orderType: 'ARCHIVE', status: 'FULFILLED', statusIsFinal: true }
        : { jobId: randomUUID().toUpperCase(), status: 'PENDING', tasks: [], startedAt: null, finishedAt: null },
  });
  const created = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    date: new Date(created * 1000).toUTCString(),
    'content-digest': `sha-256=:${createHash('sha256').update(body).digest('base64')}:`,
  };
  const signed = components.map((c) => headers[c] ?? '').join('');
  headers.signature = `up42-sig=${createHmac('sha256', secret).update(signed).digest('base64')}`;
  headers['signature-input'] = `up42-sig=(${components.map((c) => `"${c}"`).join(' ')});created=${created}`;
  try {
    const reply = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    return { url, status: reply.status, body: await reply.text() };
  } catch {
    return { url, status: null, body: '' };
  }
}
