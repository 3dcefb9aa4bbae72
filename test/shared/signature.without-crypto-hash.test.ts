import { describe, expect, it, jest } from '@jest/globals';

// The signature scheme on a runtime without crypto.hash (Node before 20.12): node:crypto is replaced by one that
// lacks it, so signature.ts and digest.ts take their createHmac and createHash paths. Its own file: the modules
// must be imported after the mock is in place.

const realCrypto = await import('node:crypto');
const { hash: _absent, ...withoutHash } = realCrypto;
jest.unstable_mockModule('node:crypto', () => ({ ...withoutHash, default: withoutHash }));
const crypto = await import('node:crypto');
const { sign, signedDeliveryHeaders, verify } = await import('../../shared/signature.js');
const { contentDigest } = await import('../../shared/digest.js');

const { BODY, CREATED, DATE, KEY_65, MAC_DEFAULT, MAC_KEY_65, SECRET, SHA256 } = await import('./openssl-vectors.js');

describe('without crypto.hash', () => {
  it('runs on a node:crypto that lacks it', () => {
    expect('hash' in crypto).toBe(false);
  });

  it('signs, digests and verifies exactly as with it', () => {
    const headers = { 'content-type': 'application/json', date: DATE, 'content-digest': `sha-256=:${SHA256}:` };
    expect(contentDigest(BODY)).toBe(`sha-256=:${SHA256}:`);
    expect(sign({ headers, components: ['content-type', 'date', 'content-digest'], secret: SECRET, created: CREATED }).signature).toBe(`up42-sig=${MAC_DEFAULT}`);
    expect(sign({ headers, components: ['content-type', 'date', 'content-digest'], secret: KEY_65, created: CREATED }).signature).toBe(`up42-sig=${MAC_KEY_65}`);
    const delivery = signedDeliveryHeaders({ body: BODY, secret: SECRET, created: CREATED });
    expect(verify({ headers: delivery, secrets: ['other', SECRET], now: CREATED, rawBody: BODY })).toEqual({
      ok: true,
      value: { label: 'up42-sig', components: ['content-type', 'date', 'content-digest'], created: CREATED, digestChecked: true, secretIndex: 1 },
    });
    expect(verify({ headers: delivery, secrets: ['other'], now: CREATED, rawBody: BODY })).toMatchObject({ ok: false, reason: 'mac-mismatch' });
    expect(verify({ headers: delivery, secrets: [SECRET], now: CREATED, rawBody: '{}' })).toMatchObject({ ok: false, reason: 'digest-mismatch' });
  });
});
