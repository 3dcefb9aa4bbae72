/**
 * npm run up42 -- webhooks <command>: manages UP42 webhooks over UP42's REST API. Thin shell over up42/:
 * parse the command line and the environment, run the command, print, exit (0 done, 1 failed, 2 usage).
 * Failures are one line on stderr, never a stack, token or password.
 */
import { config } from 'dotenv';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './cli/args.js';
import { oneLine, redact } from './cli/text.js';
import { parseUp42Args, USAGE } from './up42/args.js';
import { createClient } from './up42/client.js';
import { runCommand } from './up42/commands.js';
import { parseUp42Config } from './up42/config.js';

async function main(argv: readonly string[]): Promise<number> {
  config({ quiet: true });
  const invocation = parseUp42Args(argv);
  if (!invocation.ok) {
    if (invocation.reason === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return EXIT_OK;
    }
    process.stderr.write(`up42: ${invocation.message}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const settings = parseUp42Config(process.env);
  if (!settings.ok) {
    process.stderr.write(`up42: ${settings.message}\n`);
    return EXIT_FAILED;
  }
  const { command } = invocation.value;
  const knownSecrets =
    'secret' in command && command.secret
      ? [command.secret]
      : command.kind === 'update' && command.changes.secret
        ? [command.changes.secret]
        : [];
  const client = createClient(settings.value, { timeoutMs: invocation.value.timeoutMs, knownSecrets });
  const result = await runCommand(invocation.value, client);
  if (!result.ok) {
    process.stderr.write(`up42: ${result.message}\n`);
    return EXIT_FAILED;
  }
  process.stdout.write(`${result.value.stdout}\n`);
  if (result.value.failed) {
    process.stderr.write(`up42: ${result.value.failed}\n`);
    return EXIT_FAILED;
  }
  return EXIT_OK;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `up42: unexpected error: ${oneLine(redact(error instanceof Error ? error.message : String(error)), 300)}\n`,
    );
    process.exitCode = EXIT_FAILED;
  },
);
