import { checkDigest, DIGEST_HEADERS, type DigestCheck } from './digest.js';
import { fail, ok, type Result } from './result.js';
import { DEFAULT_LABEL, parseSignatureInput } from './signature-input.js';
import { headerValue, mac, sameMac, type HeaderBag } from './signing.js';

export {
  DEFAULT_COMPONENTS,
  headerValue,
  sameMac,
  sign,
  signedDeliveryHeaders,
  type HeaderBag,
  type SignOptions,
} from './signing.js';

/**
 * UP42's webhook signature: `signature-input: up42-sig=("h1" "h2");created=<unix>` names request headers;
 * the signed string is their values in that order with no separator; `signature: up42-sig=<base64>` carries
 * HMAC-SHA256(secret, signed string) in padded base64. `created` itself is not covered by the MAC.
 *
 * Because the values run together unseparated and `created` is unsigned, a matching MAC alone proves little:
 * whoever saw one signed delivery could spread its signed string over made-up headers, or sign nothing but
 * `content-type`, and send any body at any time. So a signature is accepted only when it covers a body digest
 * (`content-digest` or `digest`) that matches the bytes received: a captured signature is then good for that one
 * body only, and that body carries its `messageId`, which every place that keeps deliveries stores once. A signed
 * `date` is not required (no UP42 document says UP42 signs one); when covered, it is held to the time window.
 * Anything that covers no digest is a `weak-signature` unless the caller accepts weak signatures explicitly.
 */

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
   * True accepts a signature that does not bind the body (no signed digest checked against the raw body, or a
   * signed date that is not a date); Verified.weaknesses then says what is missing. Default false.
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
  /** The signed digest header, its algorithms and that it matched; null when none was checked (weak). */
  digest: DigestCheck | null;
  /** Whether `date` is among the signed headers (then held to the time window). */
  dateCovered: boolean;
  /** Which of the given secrets matched (an index, never the secret). */
  secretIndex: number;
  /** Why the signature does not bind the body; empty for a strong one (see acceptWeakSignatures). */
  weaknesses: string[];
}

/** What a verification saw, whatever its outcome: the hosts' verification reports are made of it. */
export interface SignatureSeen {
  /** The covered headers, in signing order; null when the signature-input could not be read. */
  components: string[] | null;
  /** The digest check, once it was made. */
  digest: DigestCheck | null;
}

export type VerifyResult =
  { ok: true; value: Verified } | { ok: false; reason: VerifyFailure; message: string; seen: SignatureSeen };

export const DEFAULT_MAX_AGE_SECONDS = 300;
export const DEFAULT_MAX_FUTURE_SECONDS = 30;
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

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');

/**
 * What keeps a matching MAC from binding the body. UP42's signed string is the listed values run together, and
 * `created` is outside it: a signature that covers no body digest can be moved, unchanged, onto a new body (and,
 * without a signed date, a new `created`). Empty when strong.
 */
function weaknessesOf(components: readonly string[], signedDate: number | undefined, rawBody: unknown): string[] {
  const weaknesses: string[] = [];
  if (!DIGEST_HEADERS.some((header) => components.includes(header))) {
    weaknesses.push(
      `the signature covers ${quoted(components)} and no content-digest or digest header, so it does not bind the ` +
        'body: anyone who has seen one signed delivery can send any body under its signature' +
        (signedDate === undefined ? ', at any time' : ''),
    );
  } else if (rawBody === undefined) {
    weaknesses.push('no raw body to check the signed digest against');
  }
  if (signedDate !== undefined && Number.isNaN(signedDate)) {
    weaknesses.push('the signed date header is not a valid HTTP date, so it cannot be held to the time window');
  }
  return weaknesses;
}

/** Verifies a delivery against UP42's scheme. Never throws. A failure says what it saw, for the reports. */
export function verify(options: VerifyOptions): VerifyResult {
  const seen: SignatureSeen = { components: null, digest: null };
  const failed = (result: { reason: VerifyFailure; message: string }): VerifyResult => ({
    ok: false,
    reason: result.reason,
    message: result.message,
    seen,
  });
  const label = options.label ?? DEFAULT_LABEL;
  if (!options.secrets.some(isUsableSecret)) return failed(fail('no-secret', 'no webhook secret is configured'));

  const signatureHeader = headerValue(options.headers, 'signature');
  if (signatureHeader === undefined || signatureHeader.trim() === '') {
    return failed(fail('missing-signature', 'the request has no signature header'));
  }
  const inputHeader = headerValue(options.headers, 'signature-input');
  if (inputHeader === undefined || inputHeader.trim() === '') {
    return failed(fail('missing-signature-input', 'the request has no signature-input header'));
  }
  const parsed = parseSignatureInput(inputHeader, label);
  if (!parsed.ok) {
    return failed(fail('malformed-signature-input', `malformed signature-input header: ${parsed.message}`));
  }
  const { components, created } = parsed.value;
  seen.components = components;

  const eq = signatureHeader.indexOf('=');
  if (eq < 0 || signatureHeader.slice(0, eq).trim() !== label) {
    return failed(fail('malformed-signature', `the signature header is not of the form ${label}=<base64>`));
  }
  const given = signatureHeader.slice(eq + 1).trim();

  const values: string[] = [];
  for (const name of components) {
    const value = headerValue(options.headers, name);
    if (value === undefined) {
      return failed(fail('missing-signed-header', `the signed header "${name}" is missing from the request`));
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
    if (!createdChecked.ok) return failed(createdChecked);
  }

  const secretIndex = matchingSecret(options.secrets, values.join(''), given);
  if (secretIndex < 0) {
    return failed(
      fail('mac-mismatch', 'the signature does not match: wrong secret, or the signed headers were altered'),
    );
  }

  // Past the MAC check the signed values are authentic, but only a signature that binds them to this body says
  // anything about this request.
  const dateIndex = components.indexOf('date');
  const signedDate = dateIndex < 0 ? undefined : Date.parse(values[dateIndex]!);
  const weaknesses = weaknessesOf(components, signedDate, options.rawBody);
  if (weaknesses.length > 0 && options.acceptWeakSignatures !== true) {
    return failed(
      fail(
        'weak-signature',
        `${weaknesses.join('; ')}. UP42_ACCEPT_WEAK_SIGNATURES=yes accepts such signatures, and with them forgeries`,
      ),
    );
  }

  // `created` is not covered by the MAC, so a captured delivery could be replayed with a fresh one; a signed date
  // is, so when there is one it is held to the same window.
  if (checkTime && signedDate !== undefined && !Number.isNaN(signedDate)) {
    const dateChecked = checkWindow(Math.floor(signedDate / 1000), window, 'the signed date header is from');
    if (!dateChecked.ok) return failed(dateChecked);
  }

  if (options.rawBody !== undefined) {
    for (const header of DIGEST_HEADERS) {
      const index = components.indexOf(header);
      if (index < 0) continue;
      const checked = checkDigest(header, values[index]!, options.rawBody);
      seen.digest = checked.ok ? checked.value : (checked.check ?? null);
      if (!checked.ok) return failed(checked);
    }
  }
  return ok({
    label,
    components,
    created,
    digestChecked: seen.digest !== null,
    digest: seen.digest,
    dateCovered: signedDate !== undefined,
    secretIndex,
    weaknesses,
  });
}
