import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { fail, ok, type Result } from './result.js';

/** Headers that carry a digest of the body; when one of them is signed, the body is checked against it. */
export const DIGEST_HEADERS = ['content-digest', 'digest'] as const;
export type DigestHeader = (typeof DIGEST_HEADERS)[number];

const ALGORITHMS: Record<string, 'sha256' | 'sha512'> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };

/**
 * crypto.hash (Node 20.12+) digests in one call, several times faster than a Hash object for webhook-sized
 * inputs; it is looked up, not imported by name, so on an older runtime this module still loads and its users
 * (here and signature.ts) fall back to createHash and createHmac.
 */
export const oneShotHash: typeof nodeCrypto.hash | undefined = nodeCrypto.hash;

/** Base64 digest of a body; text is hashed as its UTF-8 bytes. */
const base64Digest = (algorithm: 'sha256' | 'sha512', body: string | Uint8Array): string =>
  oneShotHash !== undefined ? oneShotHash(algorithm, body, 'base64') : createHash(algorithm).update(body).digest('base64');

/** RFC 9530 `Content-Digest: sha-256=:base64:` for a body. */
export function contentDigest(body: string | Uint8Array): string {
  return `sha-256=:${base64Digest('sha256', body)}:`;
}

interface ListedDigest {
  algorithm: 'sha256' | 'sha512';
  /** The base64 text as listed, colons removed. */
  expected: string;
}

// Base64 as RFC 9530 and RFC 3230 write it: the alphabet, then at most two '=' of padding. A loop rather than a
// regular expression: it runs on every delivery, over text the caller has already cut out.
const isBase64Char = (c: number) =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;

function isBase64(text: string, start: number, end: number): boolean {
  let i = start;
  while (i < end && isBase64Char(text.charCodeAt(i))) i++;
  const padding = end - i;
  if (padding > 2) return false;
  for (; i < end; i++) if (text.charCodeAt(i) !== 0x3d) return false;
  return true;
}

/** One `name=value` member: null when it is malformed, undefined when it names an algorithm we do not know. */
function parseMember(header: DigestHeader, part: string): ListedDigest | undefined | null {
  const eq = part.indexOf('=');
  if (eq < 0) return null;
  const name = part.slice(0, eq).trim().toLowerCase();
  const encoded = part.slice(eq + 1).trim();
  // content-digest wraps the base64 in colons (a structured-field byte sequence); the older digest does not.
  const colons = header === 'content-digest';
  if (colons && !(encoded.length >= 2 && encoded.charCodeAt(0) === 0x3a && encoded.charCodeAt(encoded.length - 1) === 0x3a)) return null;
  const start = colons ? 1 : 0;
  const end = colons ? encoded.length - 1 : encoded.length;
  if (!isBase64(encoded, start, end)) return null;
  // Own properties only: the name comes from the wire, and "constructor" must not find Object's.
  const algorithm = Object.hasOwn(ALGORITHMS, name) ? ALGORITHMS[name] : undefined;
  return algorithm === undefined ? undefined : { algorithm, expected: colons ? encoded.slice(start, end) : encoded };
}

/**
 * Parses `content-digest` (`sha-256=:b64:, sha-512=:b64:`) or the older `digest` (`SHA-256=b64`) into
 * algorithm/expected pairs. Unknown algorithms are skipped; a header that names none we know is a failure,
 * since a signed digest nobody checks protects nothing.
 */
function parseDigests(header: DigestHeader, value: string): Result<ListedDigest[], 'digest-mismatch'> {
  const found: ListedDigest[] = [];
  for (let start = 0; ; ) {
    const comma = value.indexOf(',', start);
    const member = parseMember(header, comma < 0 ? value.slice(start) : value.slice(start, comma));
    if (member === null) return fail('digest-mismatch', `the ${header} header is malformed`);
    if (member !== undefined) found.push(member);
    if (comma < 0) break;
    start = comma + 1;
  }
  if (found.length === 0) return fail('digest-mismatch', `the ${header} header names no supported algorithm (sha-256, sha-512)`);
  return ok(found);
}

/** Checks the raw body against a signed digest header: every supported algorithm listed must match. */
export function checkDigest(header: DigestHeader, value: string, body: string | Uint8Array): Result<void, 'digest-mismatch'> {
  const parsed = parseDigests(header, value);
  if (!parsed.ok) return parsed;
  // A plain comparison, not a constant-time one: nothing compared here is secret. The digest is computed from the
  // body and the header travels with that body, so whoever could time the comparison already holds both sides.
  let allMatch = true;
  for (const { algorithm, expected } of parsed.value) allMatch = base64Digest(algorithm, body) === expected && allMatch;
  return allMatch ? ok(undefined) : fail('digest-mismatch', `the body does not match its signed ${header} header`);
}
