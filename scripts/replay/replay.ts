import { Agent } from 'undici';
import { basicAuthorization } from '../cli/basic-auth.js';
import { contentDigest } from '../../shared/digest.js';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import type { Delivery } from '../send-test-event/delivery.js';
import { postDelivery, type DeliveryResult } from '../send-test-event/send.js';
import type { StoredWebhook } from './source.js';

/** The headers a replayed body goes out with: UP42's, signed now, or the same unsigned. */
export function replayHeaders(body: string, secret: string | null, nowSeconds: number): Record<string, string> {
  if (secret !== null) return signedDeliveryHeaders({ body, secret, created: nowSeconds });
  return {
    'content-type': 'application/json',
    date: new Date(nowSeconds * 1000).toUTCString(),
    'content-digest': contentDigest(body),
  };
}

/**
 * What may be signed anew with UP42's secret: only webhooks the sink verified as UP42's when they arrived. Signing
 * whatever the sink holds would let anyone who can write to it obtain a delivery the forwarder takes for UP42's.
 * Unsigned replays send everything.
 */
export function signable(
  webhooks: readonly StoredWebhook[],
  signing: boolean,
): { send: StoredWebhook[]; skipped: StoredWebhook[] } {
  if (!signing) return { send: [...webhooks], skipped: [] };
  return { send: webhooks.filter((w) => w.verified), skipped: webhooks.filter((w) => !w.verified) };
}

export interface ReplayResult {
  webhook: StoredWebhook;
  /** null in a dry run. */
  result: DeliveryResult | null;
}

/**
 * Sends each webhook in key order, one at a time and at most `ratePerSecond` a second, each signed just before
 * it goes (a signature is only good for minutes). A dry run reports what it would send.
 */
export async function replayWebhooks(options: {
  webhooks: readonly StoredWebhook[];
  to: string;
  toAuth: { user: string; pass: string } | null;
  secret: string | null;
  ratePerSecond: number;
  dryRun: boolean;
  timeoutMs: number;
  onResult?: (result: ReplayResult) => void;
  now?: () => number;
}): Promise<ReplayResult[]> {
  const now = options.now ?? Date.now;
  const results: ReplayResult[] = [];
  const agent = new Agent({ connections: 1, keepAliveTimeout: 1_000 });
  const started = now();
  try {
    for (const [index, webhook] of options.webhooks.entries()) {
      let result: DeliveryResult | null = null;
      if (!options.dryRun) {
        const wait = started + (index * 1000) / options.ratePerSecond - now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const delivery: Delivery = {
          messageId: webhook.messageId ?? '',
          body: webhook.body,
          headers: replayHeaders(webhook.body, options.secret, Math.floor(now() / 1000)),
        };
        if (options.toAuth !== null) delivery.headers.authorization = basicAuthorization(options.toAuth);
        result = await postDelivery(options.to, delivery, index, options.timeoutMs, agent);
      }
      results.push({ webhook, result });
      options.onResult?.({ webhook, result });
    }
  } finally {
    await agent.destroy().catch(() => undefined);
  }
  return results;
}

/** `key 7 job.status FAILED: 200 {…}`, or `… (dry run, not sent)`. */
export function formatReplayLine({ webhook, result }: ReplayResult): string {
  const what = `key ${webhook.key} ${webhook.event ?? '(no event)'} ${webhook.status ?? '(no status)'}`;
  if (result === null) return `${what} (dry run, not sent)`;
  if (result.status === null) return `${what}: ${result.error}`;
  return `${what}: ${result.status} ${result.reply}`;
}
