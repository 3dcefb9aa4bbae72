import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { checkDigest, contentDigest, DIGEST_HEADERS } from '../../shared/digest.js';

/*
 * Expected digests computed with openssl (LC_ALL=C.UTF-8), not with the code under test:
 *   printf '' | openssl dgst -sha256 -binary | base64
 *   printf '%s' '{"jobName":"Zürich 🛰"}' | openssl dgst -sha256 -binary | base64
 *   printf '%s' '{"jobName":"Zürich 🛰"}' | openssl dgst -sha512 -binary | base64 -w0
 */
const EMPTY_SHA256 = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const BODY = '{"jobName":"Zürich 🛰"}';
const BODY_SHA256 = 'XBSagzzqXLx2WEWAhIEXUdnj2hklhvqaIvsGWsZtslI=';
const BODY_SHA512 = 'ik3+A9qgxX0uEXgu7Y45WIWDhJ0EO/CJ2tLLAbSQtRl13kPTVEv31Zo6BRlM9S7qa08Yy8Vj0a3RYG7QXtn8ig==';

describe('contentDigest', () => {
  it('is the RFC 9530 sha-256 member of the UTF-8 bytes of the body', () => {
    expect(contentDigest('')).toBe(`sha-256=:${EMPTY_SHA256}:`);
    expect(contentDigest(BODY)).toBe(`sha-256=:${BODY_SHA256}:`);
    expect(contentDigest(Buffer.from(BODY, 'utf8'))).toBe(`sha-256=:${BODY_SHA256}:`);
  });
});

describe('checkDigest', () => {
  it('lists the two digest headers it knows', () => {
    expect([...DIGEST_HEADERS]).toEqual(['content-digest', 'digest']);
  });

  it('accepts a matching content-digest: sha-256, sha-512, or both', () => {
    expect(checkDigest('content-digest', `sha-256=:${BODY_SHA256}:`, BODY)).toEqual({
      ok: true,
      value: { header: 'content-digest', algorithms: ['sha-256'], matched: true },
    });
    expect(checkDigest('content-digest', `sha-512=:${BODY_SHA512}:`, BODY).ok).toBe(true);
    expect(checkDigest('content-digest', `sha-256=:${BODY_SHA256}:, sha-512=:${BODY_SHA512}:`, BODY).ok).toBe(true);
    expect(checkDigest('content-digest', `SHA-256=:${BODY_SHA256}:`, new TextEncoder().encode(BODY)).ok).toBe(true);
  });

  /*
   * RFC 9530's own example body and digests (its section 2 and appendix); the values were checked with openssl:
   *   printf '%s' '{"hello": "world"}' | openssl dgst -sha256 -binary | base64
   */
  const RFC_BODY = '{"hello": "world"}';
  const RFC_SHA256 = 'X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=';
  const RFC_SHA512 = 'WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==';
  it.each([
    ['content-digest', `sha-256=:${RFC_SHA256}:`],
    ['content-digest', `sha-256=${RFC_SHA256}`],
    ['digest', `sha-256=:${RFC_SHA256}:`],
    ['digest', `SHA-256=${RFC_SHA256}`],
    ['content-digest', `sha-512=:${RFC_SHA512}:`],
    ['digest', `SHA-512=${RFC_SHA512}`],
  ] as const)("takes RFC 9530's example under %s as %s, with or without its colons", (header, value) => {
    expect(checkDigest(header, value, RFC_BODY)).toMatchObject({ ok: true, value: { header, matched: true } });
    expect(checkDigest(header, value, `${RFC_BODY} `)).toMatchObject({ ok: false, reason: 'digest-mismatch' });
  });

  it('accepts a matching legacy digest header in either case', () => {
    expect(checkDigest('digest', `SHA-256=${BODY_SHA256}`, BODY).ok).toBe(true);
    expect(checkDigest('digest', `sha-512=${BODY_SHA512}`, BODY).ok).toBe(true);
    expect(checkDigest('digest', `SHA-256=${EMPTY_SHA256}`, '').ok).toBe(true);
  });

  it('skips algorithms it does not know when a known one is listed', () => {
    expect(checkDigest('content-digest', `md5=:AAAA:, sha-256=:${BODY_SHA256}:`, BODY).ok).toBe(true);
  });

  it('takes algorithm names that are Object.prototype members for unknown ones, without throwing', () => {
    for (const name of ['constructor', '__proto__', 'hasownproperty']) {
      expect(checkDigest('content-digest', `${name}=:AAAA:`, BODY)).toMatchObject({
        ok: false,
        reason: 'digest-mismatch',
      });
      expect(checkDigest('digest', `${name}=AAAA`, BODY)).toMatchObject({ ok: false, reason: 'digest-mismatch' });
      expect(checkDigest('content-digest', `${name}=:AAAA:, sha-256=:${BODY_SHA256}:`, BODY).ok).toBe(true);
    }
  });

  const mismatches: [string, 'content-digest' | 'digest', string][] = [
    ['another body’s digest', 'content-digest', `sha-256=:${EMPTY_SHA256}:`],
    ['one of two listed digests wrong', 'content-digest', `sha-256=:${BODY_SHA256}:, sha-512=:${BODY_SHA256}:`],
    ['a truncated digest', 'content-digest', `sha-256=:${BODY_SHA256.slice(0, -4)}:`],
    ['an empty digest', 'content-digest', 'sha-256=::'],
    ['only unknown algorithms', 'content-digest', 'md5=:AAAA:, unixsum=:AAAA:'],
    ['content-digest with non-base64 text', 'content-digest', 'sha-256=:not base64!:'],
    ['content-digest with three padding characters', 'content-digest', `sha-256=:${BODY_SHA256}==:`],
    ['content-digest with padding inside the base64', 'content-digest', 'sha-256=:AB=C:'],
    ['content-digest with a single colon', 'content-digest', 'sha-256=:'],
    ['no "=" at all', 'content-digest', 'sha-256'],
    ['empty header', 'content-digest', ''],
    ['a trailing comma', 'content-digest', `sha-256=:${BODY_SHA256}:,`],
    ['a value opened with a colon and not closed', 'content-digest', `sha-256=:${BODY_SHA256}`],
    ['a value closed with a colon it never opened', 'digest', `sha-256=${BODY_SHA256}:`],
    ['digest header naming an unknown algorithm', 'digest', 'MD5=AAAA'],
    ['digest header with another body’s digest', 'digest', `SHA-256=${EMPTY_SHA256}`],
  ];
  it.each(mismatches)('rejects %s as digest-mismatch', (_name, header, value) => {
    const result = checkDigest(header, value, BODY);
    expect(result).toMatchObject({ ok: false, reason: 'digest-mismatch' });
    if (!result.ok) expect(result.message).toContain(header);
  });

  it('calls a value malformed exactly when it is not base64, in colons or not, whitespace aside', () => {
    // The patterns RFC 9530 (in colons) and RFC 3230 (bare) give, as regular expressions: the oracle for the parser.
    const either = /^(:[A-Za-z0-9+/]*={0,2}:|[A-Za-z0-9+/]*={0,2})$/;
    const wellFormed = { 'content-digest': either, digest: either } as const;
    const piece = fc.constantFrom(
      'A',
      'z',
      '9',
      '+',
      '/',
      '=',
      '==',
      '===',
      ':',
      ' ',
      '\t',
      '-',
      '_',
      '.',
      '\u00e9',
      BODY_SHA256,
    );
    const text = fc.string({ unit: piece, maxLength: 8 });
    fc.assert(
      fc.property(
        fc.constantFrom(...DIGEST_HEADERS),
        fc.oneof(
          text,
          text.map((t) => `:${t}:`),
        ),
        (header, encoded) => {
          const result = checkDigest(header, `sha-256=${encoded}`, BODY);
          const malformed = !result.ok && result.message.includes('malformed');
          expect(malformed).toBe(!wellFormed[header].test(encoded.trim()));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws on any header value, and a random one never matches', () => {
    fc.assert(
      fc.property(fc.constantFrom(...DIGEST_HEADERS), fc.string({ maxLength: 200 }), (header, value) => {
        expect(checkDigest(header, value, BODY)).toMatchObject({ ok: false, reason: 'digest-mismatch' });
      }),
      { numRuns: 300 },
    );
  });
});
