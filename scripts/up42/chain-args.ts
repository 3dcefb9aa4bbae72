import { fail, ok, type Result } from '../../shared/result.js';
import { parseHttpUrl, parseStrict, parseTimeoutSeconds, type OptionValues } from '../cli/args.js';
import type { ChainCommand } from './connect.js';

/** `connect|doctor --url URL [--direct] [--wait SECONDS] [--timeout SECONDS]`, checked whole. */
const OPTIONS = {
  url: { type: 'string' },
  direct: { type: 'boolean' },
  wait: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CHAIN_COMMANDS = ['connect', 'doctor'] as const;

export function parseChainArgs(argv: readonly string[]): Result<ChainCommand, 'usage' | 'help'> {
  const parsed = parseStrict(argv, OPTIONS, true);
  if (!parsed.ok) return parsed;
  const v = parsed.value.values as OptionValues<typeof OPTIONS>;
  const [kind, ...rest] = parsed.value.positionals;
  if (v.help) return fail('help', '');
  const problems: string[] = [];
  if (rest.length > 0) problems.push(`${kind} takes no argument, got "${rest.join(' ')}"`);
  if (v.url === undefined)
    problems.push(`${kind} needs --url: the forwarder's public URL (or the sink's, with --direct)`);
  else if (parseHttpUrl(v.url) === null) problems.push('--url must be an http(s) URL');
  else if (new URL(v.url).username !== '') problems.push('--url takes no credentials: they come from .env');
  const waitMs = v.wait === undefined ? 30_000 : parseTimeoutSeconds(v.wait);
  if (waitMs === null) problems.push('--wait must be a number of seconds from 0.001 to 600');
  const timeoutMs = v.timeout === undefined ? 15_000 : parseTimeoutSeconds(v.timeout);
  if (timeoutMs === null) problems.push('--timeout must be a number of seconds from 0.001 to 600');
  if (problems.length > 0) return fail('usage', problems.join('; '));
  return ok({
    kind: kind as ChainCommand['kind'],
    url: v.url!.trim(),
    direct: v.direct === true,
    waitMs: waitMs!,
    timeoutMs: timeoutMs!,
  });
}
