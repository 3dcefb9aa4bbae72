import { Agent, request, type Dispatcher } from 'undici';
import { compactReply } from '../cli/text.js';
import { describeNetworkError } from '../cli/network-error.js';
import { buildDelivery, type Delivery, type PayloadSource } from './delivery.js';

export interface SendOptions {
  url: string;
  source: PayloadSource;
  /** null sends unsigned deliveries. */
  secret: string | null;
  /** The signature's `created`, Unix seconds; by default the time each delivery is built. */
  created?: number;
  count: number;
  concurrency: number;
  timeoutMs: number;
  /** Called as each delivery finishes, in completion order (for printing progress). */
  onResult?: (result: DeliveryResult) => void;
}

export type DeliveryResult =
  | { index: number; messageId: string; ok: boolean; status: number; reply: string }
  | { index: number; messageId: string; ok: false; status: null; error: string; timeout: boolean };

const REPLY_READ_LIMIT = 64 * 1024;

/** POSTs one delivery and reports what came back; never throws. */
export async function postDelivery(
  url: string,
  delivery: Delivery,
  index: number,
  timeoutMs: number,
  dispatcher?: Dispatcher,
): Promise<DeliveryResult> {
  try {
    const response = await request(url, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
      signal: AbortSignal.timeout(timeoutMs),
      dispatcher,
    });
    const text = await readCapped(response.body);
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    return { index, messageId: delivery.messageId, ok, status: response.statusCode, reply: compactReply(text) };
  } catch (error) {
    const { kind, message } = describeNetworkError(error, url);
    return {
      index,
      messageId: delivery.messageId,
      ok: false,
      status: null,
      error: message,
      timeout: kind === 'timeout',
    };
  }
}

/** A reply is only shown truncated, so a huge one is not read whole. */
async function readCapped(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(buf);
    size += buf.length;
    if (size >= REPLY_READ_LIMIT) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, REPLY_READ_LIMIT).toString('utf8');
}

/**
 * Sends `count` deliveries with at most `concurrency` in flight, each built (fresh messageId, timestamp and
 * signature) just before it is sent. Results are returned in delivery order.
 */
export async function sendTestEvents(options: SendOptions): Promise<DeliveryResult[]> {
  const agent = new Agent({ connections: options.concurrency, keepAliveTimeout: 1_000 });
  const results: DeliveryResult[] = new Array(options.count);
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      const index = next++;
      const delivery = buildDelivery({
        source: options.source,
        secret: options.secret,
        created: options.created ?? Math.floor(Date.now() / 1000),
      });
      const result = await postDelivery(options.url, delivery, index, options.timeoutMs, agent);
      results[index] = result;
      options.onResult?.(result);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  } finally {
    // Every result is in: nothing is left to wait for, so sockets are closed at once.
    await agent.destroy().catch(() => undefined);
  }
  return results;
}

/** The line printed for one delivery; `prefix` numbers it when several are sent. */
export function formatResult(result: DeliveryResult, numbered: boolean): string {
  const prefix = numbered ? `#${result.index + 1} ` : '';
  if (result.status === null) return `${prefix}${result.error}`;
  return `${prefix}${result.status} ${result.reply}`;
}

export function summarize(results: readonly DeliveryResult[]): { ok: number; failed: number; line: string } {
  const okCount = results.filter((r) => r.ok).length;
  const failed = results.length - okCount;
  const noun = results.length === 1 ? 'delivery' : 'deliveries';
  return { ok: okCount, failed, line: `${results.length} ${noun}: ${okCount} ok, ${failed} failed` };
}
