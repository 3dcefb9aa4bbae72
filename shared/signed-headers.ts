import { headerValue, type HeaderBag } from './signing.js';
import { parseSignatureInput } from './signature-input.js';
import { fail, ok, type Result } from './result.js';

/**
 * How a forwarder hands UP42's signature on to the sink: one header, `X-Up42-Signed-Headers`, whose value is a
 * JSON object of `signature`, `signature-input` and every header the signature covers, with the values as UP42
 * sent them. One header rather than the originals under their own names: a covered `host`, `content-length` or
 * `user-agent` changes on the way to the sink, and would then fail a signature that was good.
 */
export const SIGNED_HEADERS_HEADER = 'x-up42-signed-headers';

/** Larger than any signature-input we accept (8 KB) plus the values it names, smaller than a header buffer. */
export const SIGNED_HEADERS_MAX_LENGTH = 12 * 1024;

/** Non-ASCII as \u escapes, so the value is a valid header value whatever the originals held. */
const asciiJson = (value: unknown) =>
  JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * The carrier's value for a delivery: null when it has no signature to pass on (nothing to verify) or the
 * signature's headers do not fit in one header.
 */
export function packSignedHeaders(headers: HeaderBag): string | null {
  const signature = headerValue(headers, 'signature');
  const input = headerValue(headers, 'signature-input');
  if (signature === undefined || input === undefined) return null;
  const packed: Record<string, string> = { signature, 'signature-input': input };
  const parsed = parseSignatureInput(input);
  if (parsed.ok) {
    for (const name of parsed.value.components) {
      const value = headerValue(headers, name);
      if (value !== undefined) packed[name] = value;
    }
  }
  const text = asciiJson(packed);
  return text.length > SIGNED_HEADERS_MAX_LENGTH ? null : text;
}

/** The headers a carrier holds, as a header bag for verify(). */
export function unpackSignedHeaders(text: string): Result<HeaderBag, 'malformed-signed-headers'> {
  const bad = (why: string) => fail('malformed-signed-headers' as const, `the ${SIGNED_HEADERS_HEADER} header ${why}`);
  if (text.length > SIGNED_HEADERS_MAX_LENGTH) return bad(`is longer than ${SIGNED_HEADERS_MAX_LENGTH} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad('is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('is not a JSON object');
  // A null-prototype copy: names come from the wire.
  const bag: Record<string, string> = Object.create(null);
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'string') return bad(`holds a value for "${name}" that is not a string`);
    bag[name.toLowerCase()] = v;
  }
  return ok(bag);
}
