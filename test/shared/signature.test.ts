import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_COMPONENTS,
  DEFAULT_MAX_AGE_SECONDS,
  DEFAULT_MAX_FUTURE_SECONDS,
  headerValue,
  sameMac,
  sign,
  signedDeliveryHeaders,
  verify,
  type HeaderBag,
  type VerifyOptions,
} from '../../shared/signature.js';

import {
  BODY,
  SHA256,
  SHA512,
  DATE,
  CREATED,
  SECRET,
  MAC_DEFAULT,
  MAC_DATE_FIRST,
  UTF8_SECRET,
  MAC_UTF8_SECRET,
  MAC_SHA512_DIGEST,
  MAC_LEGACY_DIGEST,
  MAC_PREVIOUS_SECRET,
  KEY_65,
  MAC_KEY_65,
  KEY_64,
  MAC_KEY_64,
  LONG_VALUE,
  MAC_LONG_MESSAGE,
} from './openssl-vectors.js';

const INPUT_DEFAULT = `up42-sig=("content-type" "date" "content-digest");created=${CREATED}`;

/** A delivery as UP42 sends it, written out by hand. */
const delivery = (): Record<string, string> => ({
  'content-type': 'application/json',
  date: DATE,
  'content-digest': `sha-256=:${SHA256}:`,
  signature: `up42-sig=${MAC_DEFAULT}`,
  'signature-input': INPUT_DEFAULT,
});

const check = (headers: HeaderBag, extra: Partial<VerifyOptions> = {}) =>
  verify({ headers, secrets: [SECRET], now: CREATED, rawBody: BODY, ...extra });

describe('sign: known-answer vectors computed with openssl', () => {
  it('signs content-type, date and content-digest as UP42 does', () => {
    const headers = { 'content-type': 'application/json', date: DATE, 'content-digest': `sha-256=:${SHA256}:` };
    expect(sign({ headers, components: DEFAULT_COMPONENTS, secret: SECRET, created: CREATED })).toEqual({
      signature: `up42-sig=${MAC_DEFAULT}`,
      signatureInput: INPUT_DEFAULT,
    });
  });

  it('follows the listed order, not the order of the headers', () => {
    const headers = { 'content-type': 'application/json', date: DATE };
    expect(sign({ headers, components: ['date', 'content-type'], secret: SECRET, created: CREATED })).toEqual({
      signature: `up42-sig=${MAC_DATE_FIRST}`,
      signatureInput: `up42-sig=("date" "content-type");created=${CREATED}`,
    });
  });

  it('keys the HMAC with the UTF-8 bytes of a non-ASCII secret', () => {
    const headers = { 'content-type': 'application/json', date: DATE, 'content-digest': `sha-256=:${SHA256}:` };
    expect(sign({ headers, components: DEFAULT_COMPONENTS, secret: UTF8_SECRET, created: CREATED }).signature).toBe(
      `up42-sig=${MAC_UTF8_SECRET}`,
    );
  });

  it('keys the HMAC with the hash of a secret longer than a SHA-256 block, and with a 64-byte secret as it is', () => {
    const headers = { 'content-type': 'application/json', date: DATE, 'content-digest': `sha-256=:${SHA256}:` };
    expect(sign({ headers, components: DEFAULT_COMPONENTS, secret: KEY_65, created: CREATED }).signature).toBe(
      `up42-sig=${MAC_KEY_65}`,
    );
    expect(sign({ headers, components: DEFAULT_COMPONENTS, secret: KEY_64, created: CREATED }).signature).toBe(
      `up42-sig=${MAC_KEY_64}`,
    );
  });

  it('signs a signed string of more than a kilobyte', () => {
    const headers = { 'x-long': LONG_VALUE, date: DATE };
    expect(sign({ headers, components: ['x-long', 'date'], secret: SECRET, created: CREATED }).signature).toBe(
      `up42-sig=${MAC_LONG_MESSAGE}`,
    );
  });

  it('finds the headers to sign whatever their case, and lists them in lower case', () => {
    const headers = { 'Content-Type': 'application/json', DATE: DATE, 'Content-Digest': `sha-256=:${SHA256}:` };
    expect(
      sign({ headers, components: ['Content-Type', 'Date', 'CONTENT-DIGEST'], secret: SECRET, created: CREATED }),
    ).toEqual({
      signature: `up42-sig=${MAC_DEFAULT}`,
      signatureInput: INPUT_DEFAULT,
    });
  });

  it('refuses to sign a header that is not there (a programming error, so it throws)', () => {
    expect(() => sign({ headers: {}, components: ['date'], secret: SECRET, created: CREATED })).toThrow(/date/);
  });

  it('signedDeliveryHeaders writes the whole delivery: content type, date, content digest, signature', () => {
    expect(signedDeliveryHeaders({ body: BODY, secret: SECRET, created: CREATED })).toEqual(delivery());
    // The date defaults to created as an HTTP date, which is the DATE above.
    expect(signedDeliveryHeaders({ body: BODY, secret: SECRET, created: CREATED, date: DATE })).toEqual(delivery());
  });
});

describe('verify: known-answer vectors', () => {
  it('accepts the hand-written UP42 delivery and checks its body digest', () => {
    expect(check(delivery())).toEqual({
      ok: true,
      value: {
        label: 'up42-sig',
        components: ['content-type', 'date', 'content-digest'],
        created: CREATED,
        digestChecked: true,
        digest: { header: 'content-digest', algorithms: ['sha-256'], matched: true },
        dateCovered: true,
        secretIndex: 0,
        weaknesses: [],
      },
    });
  });

  it('accepts the delivery signed with a non-ASCII secret', () => {
    const headers = { ...delivery(), signature: `up42-sig=${MAC_UTF8_SECRET}` };
    expect(check(headers, { secrets: [UTF8_SECRET] })).toMatchObject({ ok: true });
    expect(check(headers)).toMatchObject({ ok: false, reason: 'mac-mismatch' });
  });

  // These two vectors sign no date: a digest binds the body, so they are strong (the sink's messageId check stops
  // their replay), and no date is held to the window.
  it('accepts a signed sha-512 content-digest without a date, and checks the body against it', () => {
    const headers = {
      'content-type': 'application/json',
      'content-digest': `sha-512=:${SHA512}:`,
      signature: `up42-sig=${MAC_SHA512_DIGEST}`,
      'signature-input': `up42-sig=("content-type" "content-digest");created=${CREATED}`,
    };
    expect(check(headers)).toMatchObject({
      ok: true,
      value: {
        digestChecked: true,
        dateCovered: false,
        weaknesses: [],
        digest: { header: 'content-digest', algorithms: ['sha-512'], matched: true },
      },
    });
    expect(check(headers, { rawBody: BODY + ' ' })).toMatchObject({
      ok: false,
      reason: 'digest-mismatch',
      seen: {
        components: ['content-type', 'content-digest'],
        digest: { header: 'content-digest', algorithms: ['sha-512'], matched: false },
      },
    });
  });

  it('accepts a signed legacy digest header (SHA-256=base64) and checks the body against it', () => {
    const headers = {
      digest: `SHA-256=${SHA256}`,
      'content-type': 'application/json',
      signature: `up42-sig=${MAC_LEGACY_DIGEST}`,
      'signature-input': `up42-sig=("digest" "content-type");created=${CREATED}`,
    };
    expect(check(headers)).toMatchObject({ ok: true, value: { digestChecked: true, dateCovered: false } });
    const changed = BODY.replace('FAILED', 'FAILEX');
    expect(check(headers, { rawBody: changed })).toMatchObject({ ok: false, reason: 'digest-mismatch' });
  });

  it('accepts the body as bytes as well as text', () => {
    expect(check(delivery(), { rawBody: new TextEncoder().encode(BODY) })).toMatchObject({
      ok: true,
      value: { digestChecked: true },
    });
    expect(check(delivery(), { rawBody: Buffer.from(BODY, 'utf8') })).toMatchObject({
      ok: true,
      value: { digestChecked: true },
    });
  });
});

describe('verify: every failure has its own reason', () => {
  const without = (name: string) => {
    const headers: Record<string, string> = delivery();
    delete headers[name];
    return headers;
  };

  it('no-secret: no secret, or only empty ones', () => {
    expect(check(delivery(), { secrets: [] })).toMatchObject({ ok: false, reason: 'no-secret' });
    expect(check(delivery(), { secrets: ['', ''] })).toMatchObject({ ok: false, reason: 'no-secret' });
  });

  it('missing-signature: absent or blank signature header', () => {
    expect(check(without('signature'))).toMatchObject({ ok: false, reason: 'missing-signature' });
    expect(check({ ...delivery(), signature: '  ' })).toMatchObject({ ok: false, reason: 'missing-signature' });
  });

  it('missing-signature-input: absent or blank signature-input header', () => {
    expect(check(without('signature-input'))).toMatchObject({ ok: false, reason: 'missing-signature-input' });
    expect(check({ ...delivery(), 'signature-input': '' })).toMatchObject({
      ok: false,
      reason: 'missing-signature-input',
    });
  });

  it('malformed-signature-input: carries the parser’s explanation', () => {
    const result = check({ ...delivery(), 'signature-input': 'up42-sig=("content-type" "date"' });
    expect(result).toMatchObject({ ok: false, reason: 'malformed-signature-input' });
    if (!result.ok) expect(result.message).toMatch(/unbalanced parentheses/);
    expect(check({ ...delivery(), 'signature-input': 'sig1=("date");created=1' })).toMatchObject({
      ok: false,
      reason: 'malformed-signature-input',
    });
    expect(check({ ...delivery(), 'signature-input': `${INPUT_DEFAULT};created=${CREATED}` })).toMatchObject({
      ok: false,
      reason: 'malformed-signature-input',
    });
  });

  it('malformed-signature: no "=", or another label', () => {
    expect(check({ ...delivery(), signature: MAC_DEFAULT.replace(/=/g, '') })).toMatchObject({
      ok: false,
      reason: 'malformed-signature',
    });
    expect(check({ ...delivery(), signature: `sig1=${MAC_DEFAULT}` })).toMatchObject({
      ok: false,
      reason: 'malformed-signature',
    });
  });

  it('missing-signed-header: each signed header, removed in turn', () => {
    for (const name of DEFAULT_COMPONENTS) {
      const result = check(without(name));
      expect(result).toMatchObject({ ok: false, reason: 'missing-signed-header' });
      if (!result.ok) expect(result.message).toContain(name);
    }
  });

  it('missing-signed-header, not a crash, for component names that are Object.prototype members', () => {
    for (const name of ['constructor', '__proto__', 'tostring', 'valueof', 'hasownproperty']) {
      const headers = { ...delivery(), 'signature-input': `up42-sig=("${name}");created=${CREATED}` };
      expect(check(headers)).toMatchObject({ ok: false, reason: 'missing-signed-header' });
    }
    expect(headerValue({}, 'constructor')).toBeUndefined();
    expect(headerValue({}, 'toString')).toBeUndefined();
  });

  it('stale and future: the default window is 300 s back and 30 s ahead, both edges included', () => {
    expect(DEFAULT_MAX_AGE_SECONDS).toBe(300);
    expect(DEFAULT_MAX_FUTURE_SECONDS).toBe(30);
    expect(check(delivery(), { now: CREATED + 300 })).toMatchObject({ ok: true });
    expect(check(delivery(), { now: CREATED + 301 })).toMatchObject({ ok: false, reason: 'stale' });
    expect(check(delivery(), { now: CREATED + 300.5 })).toMatchObject({ ok: false, reason: 'stale' });
    expect(check(delivery(), { now: CREATED - 30 })).toMatchObject({ ok: true });
    expect(check(delivery(), { now: CREATED - 31 })).toMatchObject({ ok: false, reason: 'future' });
    expect(check(delivery(), { now: CREATED - 30.5 })).toMatchObject({ ok: false, reason: 'future' });
  });

  it('stale and future: both bounds are configurable', () => {
    const opts = { maxAgeSeconds: 60, maxFutureSeconds: 0 };
    expect(check(delivery(), { ...opts, now: CREATED + 60 })).toMatchObject({ ok: true });
    expect(check(delivery(), { ...opts, now: CREATED + 61 })).toMatchObject({ ok: false, reason: 'stale' });
    expect(check(delivery(), { ...opts, now: CREATED })).toMatchObject({ ok: true });
    expect(check(delivery(), { ...opts, now: CREATED - 1 })).toMatchObject({ ok: false, reason: 'future' });
    expect(check(delivery(), { maxAgeSeconds: 3600, now: CREATED + 3600 })).toMatchObject({ ok: true });
  });

  it('the window fails closed when the clock or a bound is not a number', () => {
    expect(check(delivery(), { now: Number.NaN })).toMatchObject({ ok: false, reason: 'stale' });
    expect(check(delivery(), { now: CREATED + 10_000, maxAgeSeconds: Number.NaN })).toMatchObject({
      ok: false,
      reason: 'stale',
    });
    expect(check(delivery(), { now: CREATED - 10_000, maxFutureSeconds: Number.NaN })).toMatchObject({
      ok: false,
      reason: 'stale',
    });
  });

  it('test mode (checkTime: false) skips the window only, never the MAC or the digest', () => {
    expect(check(delivery(), { checkTime: false, now: CREATED + 86_400 * 365 })).toMatchObject({ ok: true });
    expect(check(delivery(), { checkTime: false, now: CREATED - 86_400 })).toMatchObject({ ok: true });
    expect(check(delivery(), { checkTime: false, secrets: ['wrong'] })).toMatchObject({
      ok: false,
      reason: 'mac-mismatch',
    });
    expect(check({ ...delivery(), date: 'Mon, 01 Dec 2025 08:00:00 GMT' }, { checkTime: false })).toMatchObject({
      ok: false,
      reason: 'mac-mismatch',
    });
    expect(check(delivery(), { checkTime: false, rawBody: '{}' })).toMatchObject({
      ok: false,
      reason: 'digest-mismatch',
    });
  });

  it('digest-mismatch: a body that is not the one the signed content-digest describes', () => {
    expect(check(delivery(), { rawBody: BODY.replace('FAILED', 'SUCCEEDED') })).toMatchObject({
      ok: false,
      reason: 'digest-mismatch',
    });
    expect(check(delivery(), { rawBody: '' })).toMatchObject({ ok: false, reason: 'digest-mismatch' });
    expect(check(delivery(), { rawBody: BODY + '\n' })).toMatchObject({ ok: false, reason: 'digest-mismatch' });
  });

  it(
    'digest-mismatch, not a crash, ' + 'for a signed digest whose algorithm is named like an Object.prototype member',
    () => {
      const headers = { 'content-type': 'application/json', date: DATE, 'content-digest': 'constructor=:AAAA:' };
      const { signature, signatureInput } = sign({
        headers,
        components: DEFAULT_COMPONENTS,
        secret: SECRET,
        created: CREATED,
      });
      expect(check({ ...headers, signature, 'signature-input': signatureInput })).toMatchObject({
        ok: false,
        reason: 'digest-mismatch',
      });
    },
  );

  it('an unchecked digest is weak: no body given, or the digest header not signed', () => {
    const noBody = check(delivery(), { rawBody: undefined });
    expect(noBody).toMatchObject({ ok: false, reason: 'weak-signature' });
    expect(noBody.ok ? '' : noBody.message).toContain('no raw body to check the signed digest against');
    // content-type and date signed; the unsigned content-digest could be replaced by anyone, so it proves nothing.
    const headers = {
      ...delivery(),
      'content-digest': 'sha-256=:AAAA:',
      signature: `up42-sig=${MAC_DATE_FIRST}`,
      'signature-input': `up42-sig=("date" "content-type");created=${CREATED}`,
    };
    const unsigned = check(headers);
    expect(unsigned).toMatchObject({ ok: false, reason: 'weak-signature' });
    // The message names what was covered, what that allows, and the variable that accepts it.
    expect(unsigned.ok ? '' : unsigned.message).toBe(
      'the signature covers "date", "content-type" and no content-digest or digest header, so it does not bind ' +
        'the body: anyone who has seen one signed delivery can send any body under its signature. ' +
        'UP42_ACCEPT_WEAK_SIGNATURES=yes accepts such signatures, and with them forgeries',
    );
    // Accepted on request, the result says the digest was not checked and why.
    expect(check(headers, { acceptWeakSignatures: true })).toEqual({
      ok: true,
      value: expect.objectContaining({
        digestChecked: false,
        digest: null,
        weaknesses: [expect.stringMatching(/^the signature covers "date", "content-type" and no content-digest/)],
      }),
    });
    expect(check(delivery(), { rawBody: undefined, acceptWeakSignatures: true })).toMatchObject({
      ok: true,
      value: { digestChecked: false, weaknesses: ['no raw body to check the signed digest against'] },
    });
  });

  it('mac-mismatch: the wrong secret', () => {
    expect(check(delivery(), { secrets: ['not-the-secret'] })).toMatchObject({ ok: false, reason: 'mac-mismatch' });
    expect(check(delivery(), { secrets: [SECRET.toUpperCase()] })).toMatchObject({ ok: false, reason: 'mac-mismatch' });
  });

  it('failure messages never contain a secret', () => {
    const failures = [
      check(delivery(), { secrets: ['hunter2-secret'] }),
      check(delivery(), { secrets: ['hunter2-secret'], now: 0 }),
      check(delivery(), { secrets: ['hunter2-secret'], rawBody: '{}' }),
    ];
    for (const result of failures) {
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain('hunter2');
    }
  });
});

describe('verify: tampering', () => {
  it.each(DEFAULT_COMPONENTS)('a changed %s header is a MAC mismatch', (name) => {
    const headers = delivery();
    headers[name] = headers[name]!.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x'));
    // No body here, so a changed content-digest reaches the MAC check rather than the digest check.
    expect(check(headers, { rawBody: undefined })).toMatchObject({ ok: false, reason: 'mac-mismatch' });
  });

  it('a changed signature (one character, truncated, extended, emptied) is a MAC mismatch', () => {
    const variants = [
      MAC_DEFAULT.replace('6', '7'),
      MAC_DEFAULT.slice(0, -1),
      MAC_DEFAULT.slice(0, -2),
      `${MAC_DEFAULT}=`,
      `${MAC_DEFAULT}A`,
      `${MAC_DEFAULT}${MAC_DEFAULT}`,
      MAC_DEFAULT.replace(/=$/, ''),
      '',
      MAC_DEFAULT.toLowerCase(),
      // latin1 would keep only the low byte of U+0136 (0x36, "6"): this must not pass for the real MAC.
      MAC_DEFAULT.replace('6', '\u0136'),
      'A'.repeat(1024 * 1024),
    ];
    for (const mac of variants) {
      expect(check({ ...delivery(), signature: `up42-sig=${mac}` })).toMatchObject({
        ok: false,
        reason: 'mac-mismatch',
      });
    }
  });

  it('whitespace around the MAC and the label is tolerated', () => {
    expect(check({ ...delivery(), signature: ` up42-sig = ${MAC_DEFAULT} ` })).toMatchObject({ ok: true });
  });

  it('a changed component list is a MAC mismatch (another order, a header left out)', () => {
    const reorder = {
      ...delivery(),
      'signature-input': `up42-sig=("date" "content-type" "content-digest");created=${CREATED}`,
    };
    expect(check(reorder)).toMatchObject({ ok: false, reason: 'mac-mismatch' });
    const dropped = { ...delivery(), 'signature-input': `up42-sig=("content-type" "date");created=${CREATED}` };
    expect(check(dropped)).toMatchObject({ ok: false, reason: 'mac-mismatch' });
  });

  it('created is not covered by the MAC in UP42’s scheme: a changed created is caught by the time window only', () => {
    const moved = (created: number) => ({
      ...delivery(),
      'signature-input': `up42-sig=("content-type" "date" "content-digest");created=${created}`,
    });
    // Within the window a rewritten created still verifies: nothing but the window can notice it.
    expect(check(moved(CREATED - 200))).toMatchObject({ ok: true, value: { created: CREATED - 200 } });
    expect(check(moved(CREATED + 20))).toMatchObject({ ok: true, value: { created: CREATED + 20 } });
    // Outside it, the window rejects it.
    expect(check(moved(CREATED - 301))).toMatchObject({ ok: false, reason: 'stale' });
    expect(check(moved(CREATED + 31))).toMatchObject({ ok: false, reason: 'future' });
    // A replay an hour later with a fresh created: the MAC still matches, but the signed date gives it away.
    expect(check(moved(CREATED + 3600), { now: CREATED + 3600 })).toMatchObject({ ok: false, reason: 'stale' });
  });

  describe('a signed date header is held to the same window as created', () => {
    const at = (offsetSeconds: number) => new Date((CREATED + offsetSeconds) * 1000).toUTCString();
    const signedWithDate = (date: string) =>
      signedDeliveryHeaders({ body: BODY, secret: SECRET, created: CREATED, date });

    it('accepts a date at both edges of the window and rejects one past either edge', () => {
      expect(check(signedWithDate(at(-300)))).toMatchObject({ ok: true });
      expect(check(signedWithDate(at(30)))).toMatchObject({ ok: true });
      const old = check(signedWithDate(at(-301)));
      expect(old).toMatchObject({ ok: false, reason: 'stale' });
      expect(old.ok ? '' : old.message).toContain('date');
      expect(check(signedWithDate(at(31)))).toMatchObject({ ok: false, reason: 'future' });
    });

    it(
      'rejects a signed date that is not an HTTP date, ' + 'in test mode too, and skips the window in test mode only',
      () => {
        const invalid = check(signedWithDate('not a date'));
        expect(invalid).toMatchObject({ ok: false, reason: 'weak-signature' });
        expect(invalid.ok ? '' : invalid.message).toContain('the signed date header is not a valid HTTP date');
        expect(check(signedWithDate('not a date'), { checkTime: false })).toMatchObject({
          ok: false,
          reason: 'weak-signature',
        });
        expect(check(signedWithDate(at(-3600)), { checkTime: false })).toMatchObject({ ok: true });
        expect(check({ ...signedWithDate(at(0)), date: at(-3600) }, { checkTime: false })).toMatchObject({
          ok: false,
          reason: 'mac-mismatch',
        });
      },
    );

    it('a changed date is reported as tampering (MAC mismatch), not as a time problem', () => {
      expect(check({ ...signedWithDate(at(0)), date: at(-3600) })).toMatchObject({ ok: false, reason: 'mac-mismatch' });
    });

    it(
      'an unsigned date is not trusted: ' +
        'a signature without it is weak, and accepted weak, created alone bounds it',
      () => {
        const headers = { 'content-type': 'application/json', date: at(-3600) };
        const { signature, signatureInput } = sign({
          headers,
          components: ['content-type'],
          secret: SECRET,
          created: CREATED,
        });
        const request = { ...headers, signature, 'signature-input': signatureInput };
        expect(check(request)).toMatchObject({ ok: false, reason: 'weak-signature' });
        expect(check(request, { acceptWeakSignatures: true })).toMatchObject({ ok: true });
        expect(check(request, { acceptWeakSignatures: true, now: CREATED + 301 })).toMatchObject({
          ok: false,
          reason: 'stale',
        });
      },
    );
  });

  it(
    'moving a character between neighbouring signed values ' +
      'keeps the signed string (no separator in UP42’s scheme)',
    () => {
      const headers = { ...delivery(), 'content-type': 'application/jsonS', date: DATE.slice(1) };
      expect(check(headers)).toMatchObject({ ok: true });
    },
  );
});

describe('verify: header names in any case', () => {
  it('finds every header whatever its case', () => {
    const headers = {
      'Content-Type': 'application/json',
      DATE: DATE,
      'Content-Digest': `sha-256=:${SHA256}:`,
      Signature: `up42-sig=${MAC_DEFAULT}`,
      'SIGNATURE-INPUT': INPUT_DEFAULT,
    };
    expect(check(headers)).toMatchObject({ ok: true, value: { digestChecked: true } });
  });

  it('accepts component names in any case inside signature-input', () => {
    const headers = {
      ...delivery(),
      'signature-input': `up42-sig=("Content-Type" "DATE" "Content-Digest");created=${CREATED}`,
    };
    expect(check(headers)).toMatchObject({
      ok: true,
      value: { components: ['content-type', 'date', 'content-digest'] },
    });
  });

  it('works on null-prototype header objects and joins repeated headers as HTTP folds them', () => {
    const headers: Record<string, string | string[]> = Object.assign(Object.create(null), delivery());
    expect(check(headers)).toMatchObject({ ok: true });
    expect(headerValue({ 'X-Multi': ['a', 'b'] }, 'x-multi')).toBe('a, b');
  });

  it('ignores header values that are neither strings nor arrays', () => {
    const headers = { ...delivery(), date: 42 as unknown as string };
    expect(check(headers)).toMatchObject({ ok: false, reason: 'missing-signed-header' });
  });
});

describe('verify: secret rotation', () => {
  const signedWithPrevious = () => ({ ...delivery(), signature: `up42-sig=${MAC_PREVIOUS_SECRET}` });

  it('accepts a delivery signed with any of the given secrets and reports which, by index', () => {
    expect(check(delivery(), { secrets: [SECRET, 'previous-secret'] })).toMatchObject({
      ok: true,
      value: { secretIndex: 0 },
    });
    expect(check(signedWithPrevious(), { secrets: [SECRET, 'previous-secret'] })).toMatchObject({
      ok: true,
      value: { secretIndex: 1 },
    });
    expect(check(signedWithPrevious(), { secrets: ['previous-secret', SECRET] })).toMatchObject({
      ok: true,
      value: { secretIndex: 0 },
    });
  });

  it('the index counts the secrets as given, empty ones included', () => {
    expect(check(signedWithPrevious(), { secrets: ['', 'previous-secret'] })).toMatchObject({
      ok: true,
      value: { secretIndex: 1 },
    });
  });

  it('tries every one of many secrets, in any order, again and again', () => {
    const secrets = Array.from({ length: 40 }, (_, i) => `rotation-secret-${i}`);
    const message = `application/json${DATE}sha-256=:${SHA256}:`;
    // The MAC comes from node's own HMAC, not from sign().
    const signedWith = (secret: string) => ({
      ...delivery(),
      signature: `up42-sig=${createHmac('sha256', secret).update(message).digest('base64')}`,
    });
    for (const round of [0, 1]) {
      for (const index of [39, 0, 17, 38, 1]) {
        const order = round === 0 ? secrets : [...secrets].reverse();
        const expected = round === 0 ? index : 39 - index;
        expect(check(signedWith(secrets[index]!), { secrets: order })).toMatchObject({
          ok: true,
          value: { secretIndex: expected },
        });
      }
    }
    expect(check(signedWith('rotation-secret-40'), { secrets })).toMatchObject({ ok: false, reason: 'mac-mismatch' });
  });

  it('rejects a delivery signed with a secret no longer listed', () => {
    expect(check(signedWithPrevious(), { secrets: [SECRET] })).toMatchObject({ ok: false, reason: 'mac-mismatch' });
    expect(check(signedWithPrevious(), { secrets: [SECRET, 'other'] })).toMatchObject({
      ok: false,
      reason: 'mac-mismatch',
    });
  });
});

describe('sameMac: constant-time comparison, whatever the lengths', () => {
  it('is true only for identical text', () => {
    expect(sameMac(MAC_DEFAULT, MAC_DEFAULT)).toBe(true);
    expect(sameMac(MAC_DEFAULT, MAC_DEFAULT.replace('N', 'M'))).toBe(false);
  });

  it('answers false, without throwing, when the lengths differ', () => {
    expect(sameMac(MAC_DEFAULT, '')).toBe(false);
    expect(sameMac(MAC_DEFAULT, MAC_DEFAULT.slice(0, -1))).toBe(false);
    expect(sameMac(MAC_DEFAULT, MAC_DEFAULT.slice(0, 1))).toBe(false);
    expect(sameMac(MAC_DEFAULT, `${MAC_DEFAULT}=`)).toBe(false);
    expect(sameMac(MAC_DEFAULT, MAC_DEFAULT.repeat(1000))).toBe(false);
    expect(sameMac('', MAC_DEFAULT)).toBe(false);
    expect(sameMac('', '')).toBe(true);
  });

  it('does not mistake the zero padding of a shorter value for a match', () => {
    expect(sameMac('abc\u0000', 'abc')).toBe(false);
    expect(sameMac('abc', 'abc\u0000')).toBe(false);
  });

  it('compares every byte of each character: no character passes for another with the same low byte', () => {
    expect(sameMac('A', '\u0141')).toBe(false);
    expect(sameMac('A', '\u0041\u0000')).toBe(false);
    expect(sameMac('AB', '\u4241')).toBe(false);
  });
});

describe('verify: a signature must bind the body (weak-signature)', () => {
  // UP42's signed string is the listed values run together; created is not signed. The MACs below come from
  // node's own HMAC over text written out here, not from sign().
  const hmac = (message: string, secret = SECRET) =>
    createHmac('sha256', secret).update(message, 'utf8').digest('base64');
  const SIGNED_STRING = `application/json${DATE}sha-256=:${SHA256}:`;
  const LATER = CREATED + 600;
  const OTHER_BODY = '{"event":"job.status","liveMode":true,"body":{"status":"SUCCEEDED"},"forged":true}';
  const forge = (headers: Record<string, string>, components: string[], mac = MAC_DEFAULT) => ({
    ...headers,
    signature: `up42-sig=${mac}`,
    'signature-input': `up42-sig=(${components.map((c) => `"${c}"`).join(' ')});created=${LATER}`,
  });
  const weakFor = (result: ReturnType<typeof verify>) => {
    expect(result).toMatchObject({ ok: false, reason: 'weak-signature' });
    return result.ok ? '' : result.message;
  };

  it('the captured signed string still matches its MAC: the attacks below have a valid MAC', () => {
    expect(hmac(SIGNED_STRING)).toBe(MAC_DEFAULT);
  });

  it('refuses a captured signature moved onto a made-up header, a fresh created and another body', () => {
    const headers = forge({ 'content-type': 'application/json', 'x-sig': SIGNED_STRING }, ['x-sig']);
    const message = weakFor(check(headers, { now: LATER, rawBody: OTHER_BODY }));
    expect(message).toContain('the signature covers "x-sig" and no content-digest or digest header');
    expect(message).toContain(
      'anyone who has seen one signed delivery can send any body under its signature, at any time',
    );
    // The same request in test mode (no time window) is refused all the same.
    weakFor(check(headers, { now: LATER, rawBody: OTHER_BODY, checkTime: false }));
  });

  it('refuses the captured signature split over content-type and a made-up header', () => {
    const headers = forge(
      { 'content-type': 'application/json', 'x-rest': SIGNED_STRING.slice('application/json'.length) },
      ['content-type', 'x-rest'],
    );
    weakFor(check(headers, { now: LATER, rawBody: OTHER_BODY }));
  });

  it('refuses a signature over content-type alone, whatever the body', () => {
    const headers = forge({ 'content-type': 'application/json' }, ['content-type'], hmac('application/json'));
    for (const rawBody of [OTHER_BODY, BODY, '']) weakFor(check(headers, { now: LATER, rawBody }));
  });

  it('a digest without a date is strong: it binds the body, whose messageId the keepers store once', () => {
    const digestOnly = forge(
      { 'content-digest': `sha-256=:${SHA256}:` },
      ['content-digest'],
      hmac(`sha-256=:${SHA256}:`),
    );
    expect(check(digestOnly, { now: LATER })).toMatchObject({
      ok: true,
      value: { dateCovered: false, digestChecked: true, weaknesses: [] },
    });
    // Moved onto another body, the same signature fails on the digest.
    expect(check(digestOnly, { now: LATER, rawBody: OTHER_BODY })).toMatchObject({ reason: 'digest-mismatch' });
    // A date alone binds nothing of the body: weak, and the message says the time is bound.
    const dateOnly = forge({ date: DATE }, ['date'], hmac(DATE));
    const noDigest = weakFor(check(dateOnly, { now: LATER, checkTime: false }));
    expect(noDigest).toContain('the signature covers "date" and no content-digest or digest header');
    expect(noDigest).not.toContain('at any time');
  });

  it('a signed date that is not a date is weak even with a digest', () => {
    const headers = forge(
      { date: 'yesterday', 'content-digest': `sha-256=:${SHA256}:` },
      ['date', 'content-digest'],
      hmac(`yesterday sha-256=:${SHA256}:`.replace(' ', '')),
    );
    expect(weakFor(check(headers, { now: LATER }))).toContain('the signed date header is not a valid HTTP date');
  });

  it('a weak signature with a wrong MAC is still a MAC mismatch', () => {
    const headers = forge({ 'content-type': 'application/json' }, ['content-type'], hmac('application/json', 'other'));
    expect(check(headers, { now: LATER })).toMatchObject({ ok: false, reason: 'mac-mismatch' });
  });

  it('acceptWeakSignatures accepts them, says why they are weak, and still checks the MAC and created', () => {
    const headers = forge({ 'content-type': 'application/json' }, ['content-type'], hmac('application/json'));
    const accepted = check(headers, { now: LATER, rawBody: OTHER_BODY, acceptWeakSignatures: true });
    expect(accepted).toEqual({
      ok: true,
      value: {
        label: 'up42-sig',
        components: ['content-type'],
        created: LATER,
        digestChecked: false,
        digest: null,
        dateCovered: false,
        secretIndex: 0,
        weaknesses: [
          'the signature covers "content-type" and no content-digest or digest header, so it does not bind the ' +
            'body: anyone who has seen one signed delivery can send any body under its signature, at any time',
        ],
      },
    });
    expect(check(headers, { now: LATER, acceptWeakSignatures: true, secrets: ['other'] })).toMatchObject({
      reason: 'mac-mismatch',
    });
    expect(check(headers, { now: LATER + 301, acceptWeakSignatures: true })).toMatchObject({ reason: 'stale' });
    // A strong signature is strong whatever the switch says.
    expect(check(delivery(), { acceptWeakSignatures: true })).toMatchObject({ ok: true, value: { weaknesses: [] } });
  });
});
