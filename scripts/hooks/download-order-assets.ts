/**
 * An example hook: for a FULFILLED order webhook, downloads the order's assets from UP42 into
 * FOLDER/<order id>/. Meant as SINK_HOOK_COMMAND, which hands it the webhook on standard input:
 *
 *   SINK_HOOK_COMMAND="npx tsx scripts/hooks/download-order-assets.ts ./downloads"
 *   SINK_HOOK_FILTER="event=order.status&status=FULFILLED&liveMode=true"
 *
 * It signs in as `npm run up42` does (UP42_USERNAME, UP42_PASSWORD from the environment or .env). Exit 0 when
 * every asset is there (or the webhook is not a fulfilled order), 1 otherwise: the sink then tries it again.
 */
import { join } from 'node:path';
import { config as loadDotenv } from 'dotenv';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../cli/args.js';
import { oneLine } from '../cli/text.js';
import { parseUp42Config } from '../up42/config.js';
import { createTokenSource } from '../up42/token.js';
import { downloadAsset, orderAssets } from './order-assets.js';

const TIMEOUT_MS = 60_000;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The order id of a FULFILLED order webhook, or null for any other webhook. */
export function fulfilledOrderId(text: string): string | null {
  try {
    const webhook = JSON.parse(text) as { event?: unknown; body?: { status?: unknown; orderId?: unknown } };
    const { event, body } = webhook;
    if (event !== 'order.status' || body?.status !== 'FULFILLED' || typeof body.orderId !== 'string') return null;
    return /^[A-Za-z0-9_-]+$/.test(body.orderId) ? body.orderId : null;
  } catch {
    return null;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  loadDotenv({ quiet: true });
  const folder = argv[0];
  if (folder === undefined || argv.length > 1) {
    process.stderr.write('usage: download-order-assets.ts FOLDER (the webhook on standard input)\n');
    return EXIT_USAGE;
  }
  const orderId = fulfilledOrderId(await readStdin());
  if (orderId === null) {
    process.stdout.write('not a fulfilled order: nothing to download\n');
    return EXIT_OK;
  }
  const config = parseUp42Config(process.env);
  if (!config.ok) {
    process.stderr.write(`${config.message}\n`);
    return EXIT_FAILED;
  }
  const access = {
    config: config.value,
    tokens: createTokenSource(config.value, { timeoutMs: TIMEOUT_MS }),
    timeoutMs: TIMEOUT_MS,
  };
  const assets = await orderAssets(access, orderId);
  if (!assets.ok) {
    process.stderr.write(`order ${orderId}: ${oneLine(assets.message)}\n`);
    return EXIT_FAILED;
  }
  const into = join(folder, orderId);
  for (const asset of assets.value) {
    const done = await downloadAsset(access, asset, into);
    if (!done.ok) {
      process.stderr.write(`order ${orderId}: ${oneLine(done.message)}\n`);
      return EXIT_FAILED;
    }
    process.stdout.write(`order ${orderId}: asset ${asset.id} (${oneLine(asset.name, 80)}) ${done.value}\n`);
  }
  process.stdout.write(`order ${orderId}: ${assets.value.length} assets in ${into}\n`);
  return EXIT_OK;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`download-order-assets: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = EXIT_FAILED;
  },
);
