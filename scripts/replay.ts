/**
 * npm run replay: sends stored webhooks from a sink to any URL again, signed anew. Thin shell over replay/:
 * parse, read the dump, send, print one line per webhook, exit 0 only if every answer was 2xx.
 */
import { runCli, startCli } from './cli/prologue.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './cli/args.js';
import { oneLine, redact } from './cli/text.js';
import { parseReplayArgs, USAGE } from './replay/options.js';
import { askHidden } from './cli/prompt.js';
import { basicAuthorization } from './cli/basic-auth.js';
import { formatReplayLine, replayWebhooks, signable } from './replay/replay.js';
import { readStoredWebhooks } from './replay/source.js';

async function main(argv: readonly string[]): Promise<number> {
  const start = startCli('replay', USAGE, (env) => parseReplayArgs(argv, env));
  if ('exit' in start) return start.exit;
  let options = start.value;
  if (options.toUserWithoutPass !== null) {
    const pass = process.stdin.isTTY ? await askHidden(`password for ${options.toUserWithoutPass} at --to: `) : null;
    if (pass === null) {
      process.stderr.write('replay: --to has a user but no password: put it in REPLAY_TO_PASS (environment or .env)\n');
      return EXIT_USAGE;
    }
    options = { ...options, toAuth: { user: options.toUserWithoutPass, pass } };
  }
  // Whatever the target echoes (an Authorization header, a secret) is printed redacted.
  const known = [options.secret, options.auth?.pass, options.toAuth?.pass].filter((s): s is string => !!s);
  if (options.toAuth !== null) known.push(basicAuthorization(options.toAuth).slice('Basic '.length));
  const source = await readStoredWebhooks(options);
  if (!source.ok) {
    process.stderr.write(`replay: ${source.message}\n`);
    return EXIT_FAILED;
  }
  const { send, skipped } = signable(source.webhooks, options.secret !== null);
  if (skipped.length > 0) {
    const keys = oneLine(skipped.map((w) => w.key).join(', '), 200);
    const noun = skipped.length === 1 ? 'webhook' : 'webhooks';
    process.stderr.write(
      `replay: skipped ${skipped.length} ${noun} (keys ${keys}) ` +
        "the sink did not verify as UP42's when it arrived: only those are signed anew (set UP42_WEBHOOK_SECRET on " +
        'the sink to verify what arrives; --unsigned sends every one unsigned)\n',
    );
  }
  const results = await replayWebhooks({
    ...options,
    webhooks: send,
    onResult: (r) =>
      (r.result === null || r.result.ok ? process.stdout : process.stderr).write(
        `${redact(formatReplayLine(r), known)}\n`,
      ),
  });
  const failed = results.filter((r) => r.result !== null && !r.result.ok).length;
  const noun = results.length === 1 ? 'webhook' : 'webhooks';
  const line = options.dryRun
    ? `${results.length} ${noun} would be sent to ${options.to}`
    : `${results.length} ${noun} replayed: ${results.length - failed} ok, ${failed} failed`;
  (failed === 0 ? process.stdout : process.stderr).write(`${line}\n`);
  return failed === 0 ? EXIT_OK : EXIT_FAILED;
}

runCli('replay', main);
