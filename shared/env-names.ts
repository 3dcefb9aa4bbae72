import { ENV_VARS, type EnvVar } from './env-vars.js';

/**
 * Which variable names are ours, and what a mistyped one was meant to be. Pure: the hosts pass in the keys of
 * their `.env` (parsed from the file) and of the environment they started with, and print what comes back.
 */

const OUR_NAMES: readonly string[] = (ENV_VARS as readonly EnvVar[]).flatMap((v) =>
  v.alias === undefined ? [v.name] : [v.name, v.alias],
);
const CANONICAL = new Map<string, string>(
  (ENV_VARS as readonly EnvVar[]).flatMap((v) => [[v.name, v.name] as const, [v.alias ?? v.name, v.name] as const]),
);

/**
 * Foreign names a `.env` may hold without stopping a start: libpq's PG* variables (node-postgres honours them
 * for SINK_STORE=postgres), Node's own (NODE_OPTIONS, NODE_EXTRA_CA_CERTS, ...), ngrok's tools' NGROK_*, the
 * proxy variables, TZ, and HOOK_* for the user's own hooks, which inherit the sink's environment.
 */
const FOREIGN_IN_DOTENV = [/^PG[A-Z]+$/, /^NODE_[A-Z_]+$/, /^NGROK_/, /^(HTTPS?|NO|ALL)_PROXY$/i, /^TZ$/, /^HOOK_/];

/** Prefixes of our names: an environment variable with one of them that is not ours is most likely a typo. */
const OUR_PREFIXES = /^(UP42|SINK|FORWARD|FORWARDER|WORKER|REPLAY)_/i;

/** Words of a name, upper case; a few long forms people type for our short words. */
const words = (name: string) => name.toUpperCase().split(/_+/).filter(Boolean);
const LONG_FORMS: Record<string, string> = {
  PASS: 'PASSWORD',
  USER: 'USERNAME',
  DIR: 'DIRECTORY',
  MS: 'MILLISECONDS',
};

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost));
    }
    previous = row;
  }
  return previous[b.length]!;
}

/** Whether a typed word is one of ours with a slip or two (at most a third of its letters wrong). */
function wordMatches(typed: string, ours: string): boolean {
  return [ours, LONG_FORMS[ours]].some(
    (form) => form !== undefined && editDistance(typed, form) <= Math.floor(Math.max(typed.length, form.length) / 3),
  );
}

/**
 * The variable a mistyped name most likely meant, or null. Names are compared word by word, so a name missing
 * a middle word (SINK_PASWORD for SINK_BASIC_AUTH_PASS) still finds its variable: most typed words matched
 * first, then the plain edit distance of the whole names, then fewest words left over.
 */
export function suggestName(typed: string): string | null {
  const typedWords = words(typed);
  let best: { name: string; score: [number, number, number] } | null = null;
  for (const name of OUR_NAMES) {
    const theirs = words(name);
    const matched = typedWords.filter((t) => theirs.some((o) => wordMatches(t, o))).length;
    const distance = editDistance(typed.toUpperCase(), name.toUpperCase());
    const close = matched * 2 >= typedWords.length && matched > 0;
    if (!close && distance > 3) continue;
    const score: [number, number, number] = [-matched, distance, theirs.length - matched];
    if (best === null || compare(score, best.score) < 0) best = { name: CANONICAL.get(name)!, score };
  }
  return best?.name ?? null;
}

const compare = (a: readonly number[], b: readonly number[]) => {
  const i = a.findIndex((x, k) => x !== b[k]);
  return i === -1 ? 0 : a[i]! - b[i]!;
};

const isOurs = (name: string) => CANONICAL.has(name);

function unknownLine(name: string, where: string): string {
  const suggestion = suggestName(name);
  return `unknown variable ${name} in ${where}` + (suggestion === null ? '' : `: did you mean ${suggestion}?`);
}

/** Lower-case names close to one of the article's (local_dev_hst): the environment's only other typos of ours. */
const looksLikeAlias = (name: string) =>
  name === name.toLowerCase() &&
  (ENV_VARS as readonly EnvVar[]).some((v) => v.alias !== undefined && editDistance(name, v.alias) <= 2);

export interface NameCheck {
  /** Names in `.env` that are not ours nor allowed: each stops the start. */
  errors: string[];
  /** Names in the environment that look like ours but are not: said, not fatal (the shell is not ours). */
  warnings: string[];
}

/** `dotenvKeys` from parsing the `.env` file itself; `envKeys` from the environment before `.env` was loaded. */
export function checkEnvNames(dotenvKeys: readonly string[], envKeys: readonly string[]): NameCheck {
  const errors = dotenvKeys
    .filter((name) => !isOurs(name) && !FOREIGN_IN_DOTENV.some((pattern) => pattern.test(name)))
    .map((name) => unknownLine(name, '.env'));
  const warnings = envKeys
    .filter((name) => !isOurs(name) && !/^NGROK_/.test(name) && (OUR_PREFIXES.test(name) || looksLikeAlias(name)))
    .map((name) => unknownLine(name, 'the environment'));
  return { errors, warnings };
}
