import { createHash } from 'node:crypto';
import { fail, ok, type Result } from './result.js';

/** Headers that carry a digest of the body; when one of them is signed, the body is checked against it. */
export const DIGEST_HEADERS = ['content-digest', 'digest'] as const;
export type DigestHeader = (typeof DIGEST_HEADERS)[number];

const ALGORITHMS: Record<string, 'sha256' | 'sha512'> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };

/** Base64 digest of a body; text is hashed as its UTF-8 bytes. */
const base64Digest = (algorithm: 'sha256' | 'sha512', body: string | Uint8Array): string =>
  createHash(algorithm).update(body).digest('base64');

/** RFC 9530 `Content-Digest: sha-256=:base64:` for a body. */
export function contentDigest(body: string | Uint8Array): string {
  return `sha-256=:${base64Digest('sha256', body)}:`;
}

interface ListedDigest {
  /** As listed, lower-cased: `sha-256`, `sha-512`. */
  name: string;
  algorithm: 'sha256' | 'sha512';
  /** The base64 text as listed, colons removed. */
  expected: string;
}

/** What a digest check found: which header, which algorithms it listed that we know, whether the body matched. */
export interface DigestCheck {
  header: DigestHeader;
  algorithms: string[];
  matched: boolean;
}

/** Base64 as RFC 9530 and RFC 3230 write it: the alphabet, then at most two '=' of padding. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * One `name=value` member: null when it is malformed, undefined when it names an algorithm we do not know.
 * RFC 9530 wraps the base64 in colons (a structured-field byte sequence) and RFC 3230 does not; senders mix the two
 * (earlier drafts wrote `content-digest` without colons). Either spelling is taken under either name: the header is
 * covered by the MAC and must equal the hash of the bytes received, so the spelling weakens nothing.
 */
function parseMember(part: string): ListedDigest | undefined | null {
  const eq = part.indexOf('=');
  if (eq < 0) return null;
  const name = part.slice(0, eq).trim().toLowerCase();
  const encoded = part.slice(eq + 1).trim();
  const colons = encoded.startsWith(':') || encoded.endsWith(':');
  if (colons && !(encoded.length >= 2 && encoded.startsWith(':') && encoded.endsWith(':'))) return null;
  const expected = colons ? encoded.slice(1, -1) : encoded;
  if (!BASE64.test(expected)) return null;
  // Own properties only: the name comes from the wire, and "constructor" must not find Object's.
  const algorithm = Object.hasOwn(ALGORITHMS, name) ? ALGORITHMS[name] : undefined;
  return algorithm === undefined ? undefined : { name, algorithm, expected };
}

/**
 * Parses `content-digest` (`sha-256=:b64:, sha-512=:b64:`) or the older `digest` (`SHA-256=b64`) into
 * algorithm/expected pairs. Unknown algorithms are skipped; a header that names none we know is a failure,
 * since a signed digest nobody checks protects nothing.
 */
function parseDigests(header: DigestHeader, value: string): Result<ListedDigest[], 'digest-mismatch'> {
  const found: ListedDigest[] = [];
  for (const part of value.split(',')) {
    const member = parseMember(part);
    if (member === null) return fail('digest-mismatch', `the ${header} header is malformed`);
    if (member !== undefined) found.push(member);
  }
  if (found.length === 0) {
    return fail('digest-mismatch', `the ${header} header names no supported algorithm (sha-256, sha-512)`);
  }
  return ok(found);
}

/**
 * Checks the raw body against a signed digest header: every supported algorithm listed must match. The check is
 * returned on failure too (`check`), for the hosts' verification reports.
 */
export function checkDigest(
  header: DigestHeader,
  value: string,
  body: string | Uint8Array,
): Result<DigestCheck, 'digest-mismatch'> & { check?: DigestCheck } {
  const parsed = parseDigests(header, value);
  if (!parsed.ok) return { ...parsed, check: { header, algorithms: [], matched: false } };
  // A plain comparison, not a constant-time one: nothing compared here is secret. The digest is computed from the
  // body and the header travels with that body, so whoever could time the comparison already holds both sides.
  let allMatch = true;
  for (const { algorithm, expected } of parsed.value) allMatch = base64Digest(algorithm, body) === expected && allMatch;
  const check = { header, algorithms: parsed.value.map((d) => d.name), matched: allMatch };
  return allMatch
    ? ok(check)
    : { ...fail('digest-mismatch', `the body does not match its signed ${header} header`), check };
}
