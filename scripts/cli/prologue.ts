import type { Result } from '../../shared/result.js';
import { startConfig } from '../../sink/env-shell.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './args.js';
import { oneLine, redact } from './text.js';

/**
 * The start and the end every CLI shares (npm run up42, replay, send-test-event), written once: `.env` read and
 * its names checked, the command line parsed, `--help`, the usage on a mistake, the exit codes.
 */

export type CliStart<T> = { value: T } | { exit: number };

/**
 * `.env` loaded (a mistyped name in it stops here with exit 2, sink/env-shell.ts), then `parse` on the loaded
 * environment: `--help` prints the usage (exit 0), a wrong command line the problem and the usage (exit 2).
 */
export function startCli<T>(
  name: string,
  usage: string,
  parse: (env: NodeJS.ProcessEnv) => Result<T, 'usage' | 'help'>,
): CliStart<T> {
  startConfig(`${name}: `);
  const parsed = parse(process.env);
  if (parsed.ok) return { value: parsed.value };
  if (parsed.reason === 'help') {
    process.stdout.write(`${usage}\n`);
    return { exit: EXIT_OK };
  }
  process.stderr.write(`${name}: ${parsed.message}\n\n${usage}\n`);
  return { exit: EXIT_USAGE };
}

/** Runs a CLI's main with the command line and sets the exit code it returns. */
export function runCli(name: string, main: (argv: readonly string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // Anything unforeseen still ends as one line, never a stack (which could hold request headers).
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`${name}: unexpected error: ${oneLine(redact(message), 300)}\n`);
      process.exitCode = EXIT_FAILED;
    },
  );
}
