import type { SinkConfig } from '../shared/config.js';

/**
 * Whether `npm start` opens an ngrok tunnel to the sink, and every line it prints about it.
 * Pure: no I/O, no SDK import; sink/tunnel.ts carries the plan out.
 *
 * A public URL to the store is only ever opened behind basic auth: a token without credentials
 * is refused, never opened bare.
 */

/** ngrok's own bounds on a basic-auth password; it rejects anything outside them. */
export const NGROK_PASSWORD_MIN = 8;
export const NGROK_PASSWORD_MAX = 128;

/** The object handed to `forward()` of `@ngrok/ngrok` (option names as in its Config type). */
export interface TunnelOptions {
  proto: 'http';
  /** host:port of the local sink, as the SDK's `addr` expects it. */
  addr: string;
  authtoken: string;
  /** One "user:pass" entry. */
  basic_auth: string[];
  domain?: string;
}

export type TunnelRefusal = 'no-credentials' | 'bad-user' | 'password-length' | 'no-local-address';

export type TunnelPlan =
  | { kind: 'disabled'; message: string }
  | { kind: 'refused'; reason: TunnelRefusal; message: string }
  /** `target` is the local URL the tunnel forwards to, for the success line. */
  | { kind: 'open'; options: TunnelOptions; target: string };

const WILDCARD_TO_LOOPBACK: Record<string, string> = { '0.0.0.0': '127.0.0.1', '[::]': '[::1]' };

/**
 * Where the tunnel forwards to. `localUrl` is the address the server actually bound (it knows the
 * real port when SINK_PORT is 0); the configured host and port are the fallback. A wildcard listen
 * address is not something to connect to, so it becomes the loopback of the same family.
 */
export function localAddress(config: Pick<SinkConfig, 'host' | 'port'>, localUrl: string): string | null {
  let host = config.host;
  let port = String(config.port);
  try {
    const url = new URL(localUrl);
    if (url.protocol === 'http:' && url.hostname !== '') {
      host = url.hostname;
      port = url.port || '80';
    }
  } catch {
    // not a URL: keep the configured host and port
  }
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  host = WILDCARD_TO_LOOPBACK[host] ?? host;
  if (host === '' || !/^[0-9]+$/.test(port) || Number(port) < 1 || Number(port) > 65_535) return null;
  return `${host}:${port}`;
}

/** NGROK_DOMAIN as people paste it (https://name.ngrok-free.app/) reduced to the bare host ngrok wants. */
export function normalizeNgrokDomain(raw: string): string {
  return raw
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/+$/, '');
}

/** The variables still to set for a tunnel, naming only those that are not set already. */
function enableHint(config: SinkConfig): string {
  const missing = [
    'NGROK_AUTHTOKEN',
    ...(config.auth === null ? ['SINK_BASIC_AUTH_USER', 'SINK_BASIC_AUTH_PASS'] : []),
  ];
  const list = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`;
  return `set ${list} in .env`;
}

export function planTunnel(config: SinkConfig, localUrl: string): TunnelPlan {
  const local = `the sink runs locally at ${localUrl}`;
  if (config.ngrok === null) {
    return {
      kind: 'disabled',
      message: `tunnel off: ${local}; to reach it from Pipedream through ngrok, ${enableHint(config)}`,
    };
  }
  const refuse = (reason: TunnelRefusal, why: string): TunnelPlan => ({
    kind: 'refused',
    reason,
    message: `tunnel refused: ${why}; ${local}`,
  });
  if (config.auth === null) {
    return refuse(
      'no-credentials',
      'NGROK_AUTHTOKEN is set but SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS are not, ' +
        'and a public URL to the sink is only opened behind basic auth',
    );
  }
  const { user, pass } = config.auth;
  if (user === '' || user.includes(':')) {
    return refuse('bad-user', 'SINK_BASIC_AUTH_USER must be non-empty and must not contain ":"');
  }
  // Characters, not UTF-16 units: the message speaks of characters.
  const length = [...pass].length;
  if (length < NGROK_PASSWORD_MIN || length > NGROK_PASSWORD_MAX) {
    const which = length < NGROK_PASSWORD_MIN ? 'too short' : 'too long';
    return refuse(
      'password-length',
      `SINK_BASIC_AUTH_PASS is ${which}: ` +
        `ngrok requires a basic-auth password of ${NGROK_PASSWORD_MIN} to ${NGROK_PASSWORD_MAX} characters`,
    );
  }
  const addr = localAddress(config, localUrl);
  if (addr === null) return refuse('no-local-address', `${localUrl} is not an http address with a port to forward to`);
  const domain = config.ngrok.domain === undefined ? '' : normalizeNgrokDomain(config.ngrok.domain);
  const options: TunnelOptions = {
    proto: 'http',
    addr,
    authtoken: config.ngrok.authtoken,
    basic_auth: [`${user}:${pass}`],
  };
  // The SDK gets a domain only when one is asked for: without one, ngrok picks the account's own.
  if (domain) options.domain = domain;
  return { kind: 'open', options, target: `http://${addr}` };
}

/** What to print once the tunnel is up. */
export function tunnelOpenLines(publicUrl: string, target: string): string[] {
  return [`tunnel open: ${publicUrl} → ${target}`, `set SINK_URL=${publicUrl} in Pipedream`];
}

/**
 * The tunnel's secrets as an SDK error could quote them: the token, the password, the "user:pass" pair, and
 * each of them base64-encoded (an Authorization header, a token inside an encoded blob). Each of these is
 * also found JSON-escaped, URL-encoded or broken across lines: describeTunnelError matches those forms.
 */
export function tunnelSecrets(options: Pick<TunnelOptions, 'authtoken' | 'basic_auth'>): string[] {
  const plain = new Set<string>([options.authtoken]);
  for (const pair of options.basic_auth) {
    plain.add(pair);
    plain.add(pair.slice(pair.indexOf(':') + 1));
  }
  const secrets = new Set<string>();
  for (const secret of plain) {
    if (secret === '') continue;
    secrets.add(secret);
    for (const form of base64Forms(secret)) secrets.add(form);
  }
  // Longest first, so a secret containing another is replaced whole.
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** Shorter base64 runs than this are left alone: they would match ordinary words. */
const MIN_BASE64_CHARS = 8;

/**
 * The base64 (and base64url) texts that mean `secret`: its own encoding, padded or not, and the characters
 * that encode it inside a longer encoded text, at each of the three byte offsets it can start at there (the
 * characters shared with the neighbouring bytes left out).
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>([bytes.toString('base64'), bytes.toString('base64').replace(/=+$/, '')]);
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    forms.add(encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6)));
  }
  const standard = [...forms].filter((f) => f.replace(/=+$/, '').length >= MIN_BASE64_CHARS);
  return [...standard, ...standard.map((f) => f.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''))];
}

const JSON_SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Hex digits matching either case, as encoders differ. */
const hexPattern = (n: number, width: number) =>
  [...n.toString(16).padStart(width, '0')].map((d) => (/[a-f]/.test(d) ? `[${d}${d.toUpperCase()}]` : d)).join('');

/** One character of a secret: as is, percent-encoded, JSON-escaped (`\uXXXX` or `\"`, `\n`, …), a space as `+`. */
function characterPattern(ch: string): string {
  const forms = [
    escapeRegExp(ch),
    [...Buffer.from(ch, 'utf8')].map((byte) => `%${hexPattern(byte, 2)}`).join(''),
    Array.from({ length: ch.length }, (_, i) => `\\\\u${hexPattern(ch.charCodeAt(i), 4)}`).join(''),
  ];
  const short = JSON_SHORT_ESCAPES[ch];
  if (short !== undefined) forms.push(escapeRegExp(short));
  if (ch === ' ') forms.push('\\+');
  return `(?:${forms.join('|')})`;
}

/**
 * `secret` wherever it stands in any of the forms above, character by character (so a mix of encodings
 * matches too), with line breaks or other white space allowed between characters: a wrapped token.
 */
export function secretPattern(secret: string): RegExp {
  return new RegExp([...secret].map(characterPattern).join('\\s*'), 'g');
}

const MAX_REASON_CHARS = 300;

/** One line describing `error`, with every secret replaced. Secrets are scrubbed before truncating. */
export function describeTunnelError(error: unknown, secrets: readonly string[]): string {
  let text: string;
  try {
    if (error instanceof Error) {
      const code = (error as { errorCode?: unknown }).errorCode;
      text = error.message;
      if (typeof code === 'string' && code !== '' && !text.includes(code)) text = `${text} (${code})`;
    } else {
      text = String(error);
    }
  } catch {
    text = '';
  }
  const patterns = secrets.filter((s) => s !== '').map(secretPattern);
  const scrub = (t: string) => patterns.reduce((acc, pattern) => acc.replace(pattern, '[redacted]'), t);
  // Again after folding whitespace, in case folding joined the pieces of a secret.
  text = scrub(scrub(text).replace(/\s+/g, ' ').trim());
  if (text === '') return 'unknown error';
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}…` : text;
}

export function tunnelFailedLine(error: unknown, secrets: readonly string[]): string {
  return `tunnel failed: ${describeTunnelError(error, secrets)}; the sink keeps running locally`;
}

export function tunnelCloseFailedLine(error: unknown, secrets: readonly string[]): string {
  return `tunnel close failed: ${describeTunnelError(error, secrets)}`;
}
