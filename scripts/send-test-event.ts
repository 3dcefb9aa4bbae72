/**
 * npm run send-test-event: acts as UP42 toward a URL. Thin shell over send-test-event/: parse, read the
 * payload file, send, print one line per delivery, exit 0 only if every reply was 2xx.
 */
import { readFile } from 'node:fs/promises';
import { startConfig } from '../sink/env-shell.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './cli/args.js';
import { oneLine, redact } from './cli/text.js';
import { parsePayloadFile, type PayloadSource } from './send-test-event/delivery.js';
import { parseSendArgs, USAGE } from './send-test-event/options.js';
import { formatResult, sendTestEvents, summarize } from './send-test-event/send.js';

async function main(argv: readonly string[]): Promise<number> {
  // .env read and its names checked: a mistyped variable stops here (exit 2), before anything is sent.
  startConfig('send-test-event: ');
  const parsed = parseSendArgs(argv, process.env);
  if (!parsed.ok) {
    if (parsed.reason === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return EXIT_OK;
    }
    process.stderr.write(`send-test-event: ${parsed.message}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const options = parsed.value;

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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Anything unforeseen still ends as one line, never a stack (which could hold request headers).
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`send-test-event: unexpected error: ${oneLine(redact(message), 300)}\n`);
    process.exitCode = EXIT_FAILED;
  },
);
