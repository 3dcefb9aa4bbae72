/**
 * npm run replay: sends stored webhooks from a sink to any URL again, signed anew. Thin shell over replay/:
 * parse, read the dump, send, print one line per webhook, exit 0 only if every answer was 2xx.
 */
import { config } from 'dotenv';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './cli/args.js';
import { oneLine, redact } from './cli/text.js';
import { parseReplayArgs, USAGE } from './replay/options.js';
import { formatReplayLine, replayWebhooks } from './replay/replay.js';
import { readStoredWebhooks } from './replay/source.js';

async function main(argv: readonly string[]): Promise<number> {
  config({ quiet: true });
  const parsed = parseReplayArgs(argv, process.env);
  if (!parsed.ok) {
    if (parsed.reason === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return EXIT_OK;
    }
    process.stderr.write(`replay: ${parsed.message}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const options = parsed.value;
  const source = await readStoredWebhooks(options);
  if (!source.ok) {
    process.stderr.write(`replay: ${source.message}\n`);
    return EXIT_FAILED;
  }
  const results = await replayWebhooks({
    ...options,
    webhooks: source.webhooks,
    onResult: (r) =>
      (r.result === null || r.result.ok ? process.stdout : process.stderr).write(`${formatReplayLine(r)}\n`),
  });
  const failed = results.filter((r) => r.result !== null && !r.result.ok).length;
  const noun = results.length === 1 ? 'webhook' : 'webhooks';
  const line = options.dryRun
    ? `${results.length} ${noun} would be sent to ${options.to}`
    : `${results.length} ${noun} replayed: ${results.length - failed} ok, ${failed} failed`;
  (failed === 0 ? process.stdout : process.stderr).write(`${line}\n`);
  return failed === 0 ? EXIT_OK : EXIT_FAILED;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Anything unforeseen still ends as one line, never a stack (which could hold request headers).
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`replay: unexpected error: ${oneLine(redact(message), 300)}\n`);
    process.exitCode = EXIT_FAILED;
  },
);
