import { createHmac, timingSafeEqual } from 'node:crypto';
import { contentDigest } from './digest.js';
import { DEFAULT_LABEL, formatSignatureInput } from './signature-input.js';

/**
 * UP42's signing side: the header lookup, the HMAC and its constant-time comparison that verify() uses, and the
 * signing that the test-event sender, replay and the tests use to act as UP42.
 */

/** Request headers as Node or Pipedream give them. Keys may be in any case. */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

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
export function mac(secret: string, message: string): string {
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

/**
 * What the test-event sender signs by default: the body's type, the date and its digest. UP42 does not publish which
 * headers its deliveries sign (its published validator joins whatever `signature-input` lists); this set is an
 * assumption, and `npm run up42 -- connect` shows what a real delivery covered.
 */
export const DEFAULT_COMPONENTS = ['content-type', 'date', 'content-digest'] as const;
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
