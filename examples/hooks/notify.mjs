// A hook that tells you about a webhook: a desktop notification where the system has a notifier
// (notify-send on Linux, osascript on macOS), and always one line on standard output, which the sink logs as
// "hook <key>: ...". Use it as SINK_HOOK_COMMAND="node examples/hooks/notify.mjs". It never fails because no
// notifier is installed: a hook that exits non-zero is retried, and a missing notifier would retry forever.
import { spawnSync } from 'node:child_process';
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

/** "Job f1a2 FAILED (live)": the variables the sink sets for every run (sink/hooks/hook-env.ts). */
export function summary(env, webhook) {
  const subject = env.UP42_JOB_ID
    ? `Job ${env.UP42_JOB_ID}`
    : env.UP42_ORDER_ID
      ? `Order ${env.UP42_ORDER_ID}`
      : env.WEBHOOK_EVENT || webhook?.event || 'webhook';
  const status = env.WEBHOOK_STATUS || webhook?.body?.status || '';
  const mode = env.WEBHOOK_LIVE_MODE === 'true' ? 'live' : env.WEBHOOK_LIVE_MODE === 'false' ? 'test' : '';
  return [subject, status, mode && `(${mode})`].filter(Boolean).join(' ');
}

function desktopNotify(title, text) {
  const command =
    process.platform === 'darwin'
      ? ['osascript', ['-e', `display notification ${JSON.stringify(text)} with title ${JSON.stringify(title)}`]]
      : ['notify-send', [title, text]];
  // A missing notifier is an answer too: the line below is the notification then.
  spawnSync(command[0], command[1], { stdio: 'ignore', timeout: 5000 });
}

// Run as a hook (not imported by a test): the module is the script node was started with.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = summary(process.env, await readWebhook());
  desktopNotify(`UP42 webhook #${process.env.WEBHOOK_KEY ?? '?'}`, text);
  console.log(text);
}
