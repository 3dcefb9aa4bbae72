import { createHmac, timingSafeEqual } from 'node:crypto';
import { checkDigest, contentDigest, DIGEST_HEADERS, oneShotHash, type DigestHeader } from './digest.js';
import { fail, ok, type Result } from './result.js';
import { DEFAULT_LABEL, formatSignatureInput, parseSignatureInput } from './signature-input.js';

/**
 * UP42's webhook signature: `signature-input: up42-sig=("h1" "h2");created=<unix>` names request headers;
 * the signed string is their values in that order with no separator; `signature: up42-sig=<base64>` carries
 * HMAC-SHA256(secret, signed string) in padded base64. `created` itself is not covered by the MAC.
 */

/** Request headers as Node or Pipedream give them. Keys may be in any case. */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

export type VerifyFailure =
  | 'no-secret'
  | 'missing-signature'
  | 'missing-signature-input'
  | 'malformed-signature-input'
  | 'malformed-signature'
  | 'missing-signed-header'
  | 'stale'
  | 'future'
  | 'digest-mismatch'
  | 'mac-mismatch';

export interface VerifyOptions {
  headers: HeaderBag;
  /** Accepted secrets; any one matching is enough (rotation). Empty strings are ignored. */
  secrets: readonly string[];
  /** The current time, Unix seconds. */
  now: number;
  /** The body exactly as received; when given, a signed digest header is checked against it. */
  rawBody?: string | Uint8Array;
  /** Oldest accepted `created`, in seconds before `now`. Default 300. */
  maxAgeSeconds?: number;
  /** Newest accepted `created`, in seconds after `now` (clock skew). Default 30. */
  maxFutureSeconds?: number;
  /** False skips the time window only (test mode); the MAC is always checked. */
  checkTime?: boolean;
  label?: string;
}

export interface Verified {
  label: string;
  components: string[];
  created: number;
  /** Whether a signed digest header was checked against the body. */
  digestChecked: boolean;
  /** Which of the given secrets matched (an index, never the secret). */
  secretIndex: number;
}

export const DEFAULT_MAX_AGE_SECONDS = 300;
export const DEFAULT_MAX_FUTURE_SECONDS = 30;
/** What the test-event sender signs by default. */
export const DEFAULT_COMPONENTS = ['content-type', 'date', 'content-digest'] as const;

/** Case-insensitive header lookup; repeated headers are joined as HTTP would fold them. */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  return lowerCaseHeaderValue(headers, name.toLowerCase());
}

/** headerValue for a name already in lower case: verify's own names, and the components, which the parser lowercases. */
function lowerCaseHeaderValue(headers: HeaderBag, lower: string): string | undefined {
  // Own properties only: names come from the wire, and "constructor" or "__proto__" must not reach Object.prototype.
  let value = Object.hasOwn(headers, lower) ? headers[lower] : undefined;
  if (value === undefined) {
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === lower) {
        value = headers[key];
        break;
      }
    }
  }
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.join(', ');
  return undefined;
}

/*
 * HMAC-SHA256 as RFC 2104 defines it, H((K ^ opad) || H((K ^ ipad) || message)), over crypto.hash. createHmac
 * sets up a fresh OpenSSL HMAC context on every call, which costs more than the two one-shot hashes HMAC
 * consists of; the result is the same bytes (the known-answer tests pin it to openssl). The padded keys depend
 * on the secret only, so they are derived once per secret. Secrets come from configuration, a handful at most;
 * the bound keeps a caller that passes ever new secrets from growing the cache. Without crypto.hash (see
 * digest.ts), mac falls back to createHmac.
 */
type OneShotHash = NonNullable<typeof oneShotHash>;
const SHA256_BLOCK_BYTES = 64;
const SHA256_BYTES = 32;
const MAX_CACHED_KEYS = 16;

interface HmacKey {
  /** K ^ ipad: the first block of the inner hash. */
  inner: Buffer;
  /** K ^ opad: the first block of the outer hash. */
  outer: Buffer;
}

const hmacKeys = new Map<string, HmacKey>();

function deriveHmacKey(hash: OneShotHash, secret: string): HmacKey {
  // The UTF-8 bytes of the secret, as UP42 keys it; a key longer than a block is replaced by its hash (RFC 2104).
  let key: Uint8Array = Buffer.from(secret, 'utf8');
  if (key.length > SHA256_BLOCK_BYTES) key = hash('sha256', key, 'buffer');
  const inner = Buffer.alloc(SHA256_BLOCK_BYTES, 0x36);
  const outer = Buffer.alloc(SHA256_BLOCK_BYTES, 0x5c);
  for (let i = 0; i < key.length; i++) {
    inner[i]! ^= key[i]!;
    outer[i]! ^= key[i]!;
  }
  return { inner, outer };
}

function hmacKey(hash: OneShotHash, secret: string): HmacKey {
  let key = hmacKeys.get(secret);
  if (key === undefined) {
    if (hmacKeys.size >= MAX_CACHED_KEYS) hmacKeys.clear();
    key = deriveHmacKey(hash, secret);
    hmacKeys.set(secret, key);
  }
  return key;
}

/*
 * Room for the two hash inputs, reused by every call: mac runs to completion without yielding, so no two calls
 * use it at once, and it spares two buffer allocations per secret per request. A signed string longer than the
 * room (UP42's is about 100 bytes) gets a buffer of its own, so the scratch never grows.
 */
const MAX_SCRATCH_MESSAGE_BYTES = 1024;
const innerScratch = Buffer.alloc(SHA256_BLOCK_BYTES + MAX_SCRATCH_MESSAGE_BYTES);
const outerScratch = Buffer.alloc(SHA256_BLOCK_BYTES + SHA256_BYTES);

/** Base64 HMAC-SHA256 of the UTF-8 bytes of `message`, keyed with the UTF-8 bytes of `secret`. */
function mac(secret: string, message: string): string {
  const hash = oneShotHash;
  if (hash === undefined) return createHmac('sha256', secret).update(message, 'utf8').digest('base64');
  const key = hmacKey(hash, secret);
  const messageBytes = Buffer.byteLength(message, 'utf8');
  const innerInput = messageBytes <= MAX_SCRATCH_MESSAGE_BYTES ? innerScratch : Buffer.allocUnsafe(SHA256_BLOCK_BYTES + messageBytes);
  innerInput.set(key.inner, 0);
  innerInput.write(message, SHA256_BLOCK_BYTES, 'utf8');
  // The inner digest travels as 'binary' (latin1) text, one character per byte: asking crypto.hash for a
  // Buffer is markedly slower in Node 20.
  const innerDigest = hash('sha256', innerInput.subarray(0, SHA256_BLOCK_BYTES + messageBytes), 'binary');
  outerScratch.set(key.outer, 0);
  outerScratch.write(innerDigest, SHA256_BLOCK_BYTES, 'binary');
  return hash('sha256', outerScratch, 'base64');
}

/**
 * Compares base64 text in constant time: no early exit on a differing byte or a differing length.
 * UTF-8, not latin1: latin1 keeps only the low byte of each character, so "Ł" (U+0141) would pass for "A".
 */
export function sameMac(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  // On a length mismatch, comparing `a` with itself does the same work as a real comparison, then answers false:
  // the time depends on the expected length only, which is public (44 characters for HMAC-SHA256).
  const sameLength = a.length === b.length;
  return timingSafeEqual(a, sameLength ? b : a) && sameLength;
}

export interface SignOptions {
  headers: HeaderBag;
  components: readonly string[];
  secret: string;
  created: number;
  label?: string;
}

/** The `signature` and `signature-input` values UP42 would send for these headers. */
export function sign({ headers, components, secret, created, label = DEFAULT_LABEL }: SignOptions): {
  signature: string;
  signatureInput: string;
} {
  const values = components.map((name) => {
    const value = headerValue(headers, name);
    if (value === undefined) throw new TypeError(`cannot sign: the header "${name}" is not in the request`);
    return value;
  });
  const lowered = components.map((c) => c.toLowerCase());
  return {
    signature: `${label}=${mac(secret, values.join(''))}`,
    signatureInput: formatSignatureInput(label, lowered, created),
  };
}

/**
 * Everything UP42 puts on a signed delivery of `body`: content type, date, content digest and the signature.
 * `date` defaults to `created` as an HTTP date.
 */
export function signedDeliveryHeaders(options: {
  body: string;
  secret: string;
  created: number;
  components?: readonly string[];
  date?: string;
}): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    date: options.date ?? new Date(options.created * 1000).toUTCString(),
    'content-digest': contentDigest(options.body),
  };
  const { signature, signatureInput } = sign({
    headers,
    components: options.components ?? DEFAULT_COMPONENTS,
    secret: options.secret,
    created: options.created,
  });
  return { ...headers, signature, 'signature-input': signatureInput };
}

/*
 * IMF-fixdate, the one form RFC 9110 has senders write (and UP42 writes): "Sun, 30 Nov 2025 08:00:00 GMT".
 * V8's Date.parse takes any of a dozen forms and costs several times what reading this one takes, on every
 * delivery; the fields within these bounds give Date.parse's answer through Date.UTC, which rolls 31 Feb over
 * to 3 Mar as Date.parse does. Other text, a year before 1000 (Date.parse reads 0099 as 1999) and a day,
 * hour, minute or second past its range (24:00:00 is next midnight to Date.parse) are left to Date.parse.
 */
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [1-9]\d{3} \d\d:\d\d:\d\d GMT$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const twoDigits = (text: string, at: number) => (text.charCodeAt(at) - 0x30) * 10 + (text.charCodeAt(at + 1) - 0x30);

/** Milliseconds since the epoch of an HTTP date, NaN when it is none: always what Date.parse answers. */
export function parseHttpDate(text: string): number {
  if (!IMF_FIXDATE.test(text)) return Date.parse(text);
  const day = twoDigits(text, 5);
  const hour = twoDigits(text, 17);
  const minute = twoDigits(text, 20);
  const second = twoDigits(text, 23);
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return Date.parse(text);
  const year = twoDigits(text, 12) * 100 + twoDigits(text, 14);
  return Date.UTC(year, MONTHS.indexOf(text.slice(8, 11)), day, hour, minute, second);
}

/** Holds a Unix time to the window around `now`. Negated comparisons fail closed on a NaN clock or bound. */
function checkWindow(
  at: number,
  { now, maxAge, maxFuture }: { now: number; maxAge: number; maxFuture: number },
  subject: string,
): Result<void, 'stale' | 'future'> {
  const age = now - at;
  if (!Number.isFinite(age) || Number.isNaN(maxAge) || Number.isNaN(maxFuture)) {
    return fail('stale', 'the time window cannot be checked: the current time or a bound is not a number');
  }
  if (!(age <= maxAge)) return fail('stale', `${subject} ${age} s ago, more than the ${maxAge} s allowed`);
  if (!(-age <= maxFuture)) return fail('future', `${subject} ${-age} s in the future, more than the ${maxFuture} s allowed for clock skew`);
  return ok(undefined);
}

// Module-level, as are verify's other helpers: a closure defined inside verify would be a new function per call.
const isUsableSecret = (s: unknown): s is string => typeof s === 'string' && s.length > 0;

/**
 * The index of the secret the MAC was made with, or -1. Every secret is tried, whichever matches, so the time
 * taken does not tell which one did. The index is into the secrets as given (empty ones skipped, not removed),
 * as Verified documents.
 */
function matchingSecret(secrets: readonly string[], message: string, given: string): number {
  let secretIndex = -1;
  for (let index = 0; index < secrets.length; index++) {
    const secret = secrets[index];
    if (isUsableSecret(secret) && sameMac(mac(secret, message), given) && secretIndex < 0) secretIndex = index;
  }
  return secretIndex;
}

/** Verifies a delivery against UP42's scheme. Never throws. */
export function verify(options: VerifyOptions): Result<Verified, VerifyFailure> {
  const label = options.label ?? DEFAULT_LABEL;
  if (!options.secrets.some(isUsableSecret)) return fail('no-secret', 'no webhook secret is configured');

  const signatureHeader = lowerCaseHeaderValue(options.headers, 'signature');
  if (signatureHeader === undefined || signatureHeader.trim() === '') {
    return fail('missing-signature', 'the request has no signature header');
  }
  const inputHeader = lowerCaseHeaderValue(options.headers, 'signature-input');
  if (inputHeader === undefined || inputHeader.trim() === '') {
    return fail('missing-signature-input', 'the request has no signature-input header');
  }
  const parsed = parseSignatureInput(inputHeader, label);
  if (!parsed.ok) return fail('malformed-signature-input', `malformed signature-input header: ${parsed.message}`);
  const input = parsed.value;

  const eq = signatureHeader.indexOf('=');
  if (eq < 0 || signatureHeader.slice(0, eq).trim() !== label) {
    return fail('malformed-signature', `the signature header is not of the form ${label}=<base64>`);
  }
  const given = signatureHeader.slice(eq + 1).trim();

  const values: string[] = [];
  for (const name of input.components) {
    const value = lowerCaseHeaderValue(options.headers, name);
    if (value === undefined) return fail('missing-signed-header', `the signed header "${name}" is missing from the request`);
    values.push(value);
  }

  const window = {
    now: options.now,
    maxAge: options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS,
    maxFuture: options.maxFutureSeconds ?? DEFAULT_MAX_FUTURE_SECONDS,
  };
  if (options.checkTime !== false) {
    const createdChecked = checkWindow(input.created, window, 'the signature was created');
    if (!createdChecked.ok) return createdChecked;
  }

  const secretIndex = matchingSecret(options.secrets, values.join(''), given);
  if (secretIndex < 0) return fail('mac-mismatch', 'the signature does not match: wrong secret, or the signed headers were altered');

  // `created` is not covered by the MAC, so a captured delivery could be replayed with a fresh one. When the
  // `date` header is signed (and so, past the MAC check, authentic), it is held to the same window.
  const dateIndex = input.components.indexOf('date');
  if (options.checkTime !== false && dateIndex >= 0) {
    const signedDate = parseHttpDate(values[dateIndex]!);
    if (Number.isNaN(signedDate)) return fail('stale', 'the signed date header is not a valid HTTP date');
    const dateChecked = checkWindow(Math.floor(signedDate / 1000), window, 'the signed date header is from');
    if (!dateChecked.ok) return dateChecked;
  }

  let digestChecked = false;
  if (options.rawBody !== undefined) {
    for (const header of DIGEST_HEADERS) {
      if (!input.components.includes(header)) continue;
      const checked = checkDigest(header as DigestHeader, values[input.components.indexOf(header)]!, options.rawBody);
      if (!checked.ok) return checked;
      digestChecked = true;
    }
  }
  return ok({ label, components: input.components, created: input.created, digestChecked, secretIndex });
}
