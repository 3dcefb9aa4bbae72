/**
 * npm run up42 -- webhooks <command>: manages UP42 webhooks over UP42's REST API. Thin shell over up42/:
 * parse the command line and the environment, run the command, print, exit (0 done, 1 failed, 2 usage).
 * Failures are one line on stderr, never a stack, token or password.
 */
import { runCli, startCli } from './cli/prologue.js';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { EXIT_FAILED, EXIT_OK } from './cli/args.js';
import { oneLine } from './cli/text.js';
import { parseUp42Args, USAGE } from './up42/args.js';
import { createClient } from './up42/client.js';
import { runCommand } from './up42/commands.js';
import { parseUp42Config, type Up42Config } from './up42/config.js';
import { readEnv } from '../shared/env.js';
import { CHAIN_COMMANDS, parseChainArgs } from './up42/chain-args.js';
import { runChain } from './up42/connect.js';
import { httpCall } from './up42/http.js';
import { saveToDotenv } from './up42/secret-file.js';

/** The UP42 account's settings, or null once the problem is printed. */
function up42Settings(): Up42Config | null {
  const settings = parseUp42Config(process.env);
  if (settings.ok) return settings.value;
  process.stderr.write(`up42: ${settings.message}\n`);
  return null;
}

/** connect and doctor: the chain from UP42 to the sink, one line per hop (scripts/up42/connect.ts). */
async function chain(argv: readonly string[]): Promise<number> {
  const start = startCli('up42', USAGE, () => parseChainArgs(argv));
  if ('exit' in start) return start.exit;
  const settings = up42Settings();
  if (settings === null) return EXIT_FAILED;
  const secret = readEnv(process.env, 'UP42_WEBHOOK_SECRET');
  const client = createClient(settings, {
    timeoutMs: start.value.timeoutMs,
    knownSecrets: secret ? [secret] : [],
  });
  const dotenv = resolve('.env');
  const result = await runChain(start.value, {
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
  if ((CHAIN_COMMANDS as readonly string[]).includes(argv[0] ?? '')) return chain(argv);
  const invocation = startCli('up42', USAGE, () => parseUp42Args(argv));
  if ('exit' in invocation) return invocation.exit;
  const settings = up42Settings();
  if (settings === null) return EXIT_FAILED;
  const { command } = invocation.value;
  const knownSecrets =
    'secret' in command && command.secret
      ? [command.secret]
      : command.kind === 'update' && command.changes.secret
        ? [command.changes.secret]
        : [];
  const client = createClient(settings, { timeoutMs: invocation.value.timeoutMs, knownSecrets });
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

runCli('up42', main);
