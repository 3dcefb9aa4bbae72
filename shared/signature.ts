import { createHmac, timingSafeEqual } from 'node:crypto';
import { checkDigest, contentDigest, DIGEST_HEADERS } from './digest.js';
import { fail, ok, type Result } from './result.js';
import { DEFAULT_LABEL, formatSignatureInput, parseSignatureInput } from './signature-input.js';

/**
 * UP42's webhook signature: `signature-input: up42-sig=("h1" "h2");created=<unix>` names request headers;
 * the signed string is their values in that order with no separator; `signature: up42-sig=<base64>` carries
 * HMAC-SHA256(secret, signed string) in padded base64. `created` itself is not covered by the MAC.
 *
 * Because the values run together unseparated and `created` is unsigned, a matching MAC alone proves little:
 * whoever saw one signed delivery could spread its signed string over made-up headers, or sign nothing but
 * `content-type`, and send any body at any time. So a signature is accepted only when it covers `date` (a valid
 * HTTP date, held to the time window) and a body digest checked against the raw body; anything less is a
 * `weak-signature` unless the caller accepts weak signatures explicitly.
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
  | 'mac-mismatch'
  | 'weak-signature';

export interface VerifyOptions {
  headers: HeaderBag;
  /** Accepted secrets; any one matching is enough (rotation). Empty strings are ignored. */
  secrets: readonly string[];
  /** The current time, Unix seconds. */
  now: number;
  /** The body exactly as received; a signed digest header is checked against it (without it, the signature is weak). */
  rawBody?: string | Uint8Array;
  /** Oldest accepted `created`, in seconds before `now`. Default 300. */
  maxAgeSeconds?: number;
  /** Newest accepted `created`, in seconds after `now` (clock skew). Default 30. */
  maxFutureSeconds?: number;
  /** False skips the time window only (test mode); the MAC and what it must cover are always checked. */
  checkTime?: boolean;
  /**
   * True accepts a signature that does not bind the time and the body (no signed valid `date`, or no signed
   * digest checked against the raw body); Verified.weaknesses then says what is missing. Default false.
   */
  acceptWeakSignatures?: boolean;
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
  /** Why the signature does not bind the time and the body; empty for a strong one (see acceptWeakSignatures). */
  weaknesses: string[];
}

export const DEFAULT_MAX_AGE_SECONDS = 300;
export const DEFAULT_MAX_FUTURE_SECONDS = 30;
/** What the test-event sender signs by default: a strong signature, binding the time, the body and its type. */
export const DEFAULT_COMPONENTS = ['content-type', 'date', 'content-digest'] as const;

/** Case-insensitive header lookup; repeated headers are joined as HTTP would fold them. */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const lower = name.toLowerCase();
  // Own properties only: names come from the wire, and "constructor" or "__proto__" must not reach Object.prototype.
  let value = Object.hasOwn(headers, lower) ? headers[lower] : undefined;
  if (value === undefined) {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === lower);
    if (key !== undefined) value = headers[key];
  }
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.join(', ');
  return undefined;
}

/** Base64 HMAC-SHA256 of the UTF-8 bytes of `message`, keyed with the UTF-8 bytes of `secret`. */
function mac(secret: string, message: string): string {
  return createHmac('sha256', secret).update(message, 'utf8').digest('base64');
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
  if (!(-age <= maxFuture)) {
    return fail('future', `${subject} ${-age} s in the future, more than the ${maxFuture} s allowed for clock skew`);
  }
  return ok(undefined);
}

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

/**
 * What keeps a matching MAC from binding the time and the body. UP42's signed string is the listed values run
 * together, and `created` is outside it: a signature that leaves out the date or the body digest can be moved,
 * unchanged, onto a new `created`, a new body or made-up headers that spell the same string. Empty when strong.
 */
function weaknessesOf(components: readonly string[], signedDate: number | undefined, rawBody: unknown): string[] {
  const weaknesses: string[] = [];
  if (signedDate === undefined) weaknesses.push('the signature does not cover the date header');
  else if (Number.isNaN(signedDate)) weaknesses.push('the signed date header is not a valid HTTP date');
  if (!DIGEST_HEADERS.some((header) => components.includes(header))) {
    weaknesses.push('the signature does not cover a content-digest or digest header');
  } else if (rawBody === undefined) {
    weaknesses.push('no raw body to check the signed digest against');
  }
  return weaknesses;
}

/** Verifies a delivery against UP42's scheme. Never throws. */
export function verify(options: VerifyOptions): Result<Verified, VerifyFailure> {
  const label = options.label ?? DEFAULT_LABEL;
  if (!options.secrets.some(isUsableSecret)) return fail('no-secret', 'no webhook secret is configured');

  const signatureHeader = headerValue(options.headers, 'signature');
  if (signatureHeader === undefined || signatureHeader.trim() === '') {
    return fail('missing-signature', 'the request has no signature header');
  }
  const inputHeader = headerValue(options.headers, 'signature-input');
  if (inputHeader === undefined || inputHeader.trim() === '') {
    return fail('missing-signature-input', 'the request has no signature-input header');
  }
  const parsed = parseSignatureInput(inputHeader, label);
  if (!parsed.ok) return fail('malformed-signature-input', `malformed signature-input header: ${parsed.message}`);
  const { components, created } = parsed.value;

  const eq = signatureHeader.indexOf('=');
  if (eq < 0 || signatureHeader.slice(0, eq).trim() !== label) {
    return fail('malformed-signature', `the signature header is not of the form ${label}=<base64>`);
  }
  const given = signatureHeader.slice(eq + 1).trim();

  const values: string[] = [];
  for (const name of components) {
    const value = headerValue(options.headers, name);
    if (value === undefined) {
      return fail('missing-signed-header', `the signed header "${name}" is missing from the request`);
    }
    values.push(value);
  }

  const checkTime = options.checkTime !== false;
  const window = {
    now: options.now,
    maxAge: options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS,
    maxFuture: options.maxFutureSeconds ?? DEFAULT_MAX_FUTURE_SECONDS,
  };
  if (checkTime) {
    const createdChecked = checkWindow(created, window, 'the signature was created');
    if (!createdChecked.ok) return createdChecked;
  }

  const secretIndex = matchingSecret(options.secrets, values.join(''), given);
  if (secretIndex < 0) {
    return fail('mac-mismatch', 'the signature does not match: wrong secret, or the signed headers were altered');
  }

  // Past the MAC check the signed values are authentic, but only a signature that binds them to this time and
  // this body says anything about this request.
  const dateIndex = components.indexOf('date');
  const signedDate = dateIndex < 0 ? undefined : Date.parse(values[dateIndex]!);
  const weaknesses = weaknessesOf(components, signedDate, options.rawBody);
  if (weaknesses.length > 0 && options.acceptWeakSignatures !== true) {
    return fail('weak-signature', `${weaknesses.join('; ')}: a signature must cover the date and the body's digest`);
  }

  // `created` is not covered by the MAC, so a captured delivery could be replayed with a fresh one; the signed
  // date is, so it is held to the same window.
  if (checkTime && signedDate !== undefined && !Number.isNaN(signedDate)) {
    const dateChecked = checkWindow(Math.floor(signedDate / 1000), window, 'the signed date header is from');
    if (!dateChecked.ok) return dateChecked;
  }

  let digestChecked = false;
  if (options.rawBody !== undefined) {
    for (const header of DIGEST_HEADERS) {
      const index = components.indexOf(header);
      if (index < 0) continue;
      const checked = checkDigest(header, values[index]!, options.rawBody);
      if (!checked.ok) return checked;
      digestChecked = true;
    }
  }
  return ok({ label, components, created, digestChecked, secretIndex, weaknesses });
}
