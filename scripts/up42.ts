/**
 * npm run up42 -- webhooks <command>: manages UP42 webhooks over UP42's REST API. Thin shell over up42/:
 * parse the command line and the environment, run the command, print, exit (0 done, 1 failed, 2 usage).
 * Failures are one line on stderr, never a stack, token or password.
 */
import { startConfig } from '../sink/env-shell.js';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './cli/args.js';
import { oneLine, redact } from './cli/text.js';
import { parseUp42Args, USAGE } from './up42/args.js';
import { createClient } from './up42/client.js';
import { runCommand } from './up42/commands.js';
import { parseUp42Config } from './up42/config.js';
import { CHAIN_COMMANDS, parseChainArgs } from './up42/chain-args.js';
import { runChain } from './up42/connect.js';
import { httpCall } from './up42/http.js';
import { saveToDotenv } from './up42/secret-file.js';

/** connect and doctor: the chain from UP42 to the sink, one line per hop (scripts/up42/connect.ts). */
async function chain(argv: readonly string[]): Promise<number> {
  const parsed = parseChainArgs(argv);
  if (!parsed.ok) {
    if (parsed.reason === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return EXIT_OK;
    }
    process.stderr.write(`up42: ${parsed.message}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const settings = parseUp42Config(process.env);
  if (!settings.ok) {
    process.stderr.write(`up42: ${settings.message}\n`);
    return EXIT_FAILED;
  }
  const secret = process.env.UP42_WEBHOOK_SECRET;
  const client = createClient(settings.value, {
    timeoutMs: parsed.value.timeoutMs,
    knownSecrets: secret ? [secret] : [],
  });
  const dotenv = resolve('.env');
  const result = await runChain(parsed.value, {
    client,
    http: httpCall,
    env: process.env,
    saveSecret: async (value) => {
      await saveToDotenv(dotenv, 'UP42_WEBHOOK_SECRET', value);
      return dotenv;
    },
    // 32 random bytes as hex: as strong as HMAC-SHA256's key wants, and safe to paste anywhere.
    generateSecret: () => randomBytes(32).toString('hex'),
    print: (line) => process.stdout.write(`${oneLine(line, 2000)}\n`),
    now: Date.now,
    sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
  });
  return result.failed ? EXIT_FAILED : EXIT_OK;
}

async function main(argv: readonly string[]): Promise<number> {
  // .env read and its names checked: a mistyped variable stops here (exit 2), before anything is sent.
  startConfig('up42: ');
  if ((CHAIN_COMMANDS as readonly string[]).includes(argv[0] ?? '')) return chain(argv);
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
