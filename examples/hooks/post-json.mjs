// A hook that posts a short JSON message about each webhook to a URL, as Slack's, Mattermost's and Teams'
// incoming webhooks take it: {"text": "..."}. Set the URL in .env (HOOK_WEBHOOK_URL is allowed there) and use it
// as SINK_HOOK_COMMAND="node examples/hooks/post-json.mjs". Exit 1 on any failure, so the sink tries again later
// (hooks run at least once: a message may come twice).
import { pathToFileURL } from 'node:url';

/** The body the sink hands over on standard input, parsed; null when it is not JSON. */
async function readWebhook() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}

/** The message: what the webhook is about and its status, from the variables the sink sets for every run. */
export function message(env, webhook) {
  const about = env.UP42_JOB_ID ? `Job ${env.UP42_JOB_ID}` : env.UP42_ORDER_ID ? `Order ${env.UP42_ORDER_ID}` : '';
  const event = env.WEBHOOK_EVENT || webhook?.event || 'webhook';
  const status = env.WEBHOOK_STATUS || webhook?.body?.status || '';
  const live = env.WEBHOOK_LIVE_MODE === 'false' ? ' (test)' : '';
  return { text: `UP42 ${event}: ${[about, status].filter(Boolean).join(' ')}${live} · #${env.WEBHOOK_KEY ?? '?'}` };
}

// Run as a hook (not imported by a test): the module is the script node was started with.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const url = process.env.HOOK_WEBHOOK_URL;
  if (!url) {
    console.error('HOOK_WEBHOOK_URL is not set: the URL to post each message to');
    process.exit(1);
  }
  const payload = message(process.env, await readWebhook());
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(30_000),
    });
    // The URL itself often holds a token (Slack's do): never printed.
    if (!res.ok) throw new Error(`the receiver answered ${res.status}`);
    console.log(`posted: ${payload.text}`);
  } catch (err) {
    console.error(`could not post: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
