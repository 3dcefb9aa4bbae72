/**
 * npm run send-test-event: acts as UP42 toward a URL. Thin shell over send-test-event/: parse, read the
 * payload file, send, print one line per delivery, exit 0 only if every reply was 2xx.
 */
import { readFile } from 'node:fs/promises';
import { runCli, startCli } from './cli/prologue.js';
import { EXIT_FAILED, EXIT_OK } from './cli/args.js';
import { oneLine } from './cli/text.js';
import { parsePayloadFile, type PayloadSource } from './send-test-event/delivery.js';
import { parseSendArgs, USAGE } from './send-test-event/options.js';
import { formatResult, sendTestEvents, summarize } from './send-test-event/send.js';

async function main(argv: readonly string[]): Promise<number> {
  const start = startCli('send-test-event', USAGE, (env) => parseSendArgs(argv, env));
  if ('exit' in start) return start.exit;
  const options = start.value;

  let source: PayloadSource = {
    kind: 'event',
    event: options.event,
    status: options.status,
    liveMode: options.liveMode,
  };
  if (options.file !== undefined) {
    let text: string;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'error';
      process.stderr.write(`send-test-event: cannot read ${options.file}: ${code}\n`);
      return EXIT_FAILED;
    }
    const payload = parsePayloadFile(text);
    if (!payload.ok) {
      process.stderr.write(`send-test-event: ${options.file}: ${oneLine(payload.message, 200)}\n`);
      return EXIT_FAILED;
    }
    source = { kind: 'file', payload: payload.value };
  }

  const numbered = options.count > 1;
  const results = await sendTestEvents({
    url: options.url,
    source,
    secret: options.secret,
    created: options.created,
    count: options.count,
    concurrency: options.concurrency,
    timeoutMs: options.timeoutMs,
    onResult: (result) => (result.ok ? process.stdout : process.stderr).write(`${formatResult(result, numbered)}\n`),
  });
  const summary = summarize(results);
  if (numbered) (summary.failed === 0 ? process.stdout : process.stderr).write(`${summary.line}\n`);
  return summary.failed === 0 ? EXIT_OK : EXIT_FAILED;
}

runCli('send-test-event', main);
