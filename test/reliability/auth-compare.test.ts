import { describe, expect, it, jest } from '@jest/globals';

// The sink's credential check, with node:crypto's timingSafeEqual recorded. Its own file: the auth module must
// be imported after the mock is in place, and any static import of the sink would load it before.

const USER = 'relay-user';
const PASS = 'sink-pass-Vv7k-TOPSECRET';
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const AUTH = basic(USER, PASS);

const realCrypto = await import('node:crypto');
const comparisons: { a: Buffer; b: Buffer }[] = [];
jest.unstable_mockModule('node:crypto', () => ({
  ...realCrypto,
  default: realCrypto,
  timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    comparisons.push({
      a: Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      b: Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    });
    return realCrypto.timingSafeEqual(a, b);
  },
}));
const { createBasicAuthCheck } = await import('../../sink/auth.js');

describe('the credential comparison', () => {
  it('goes through one constant-time compare of fixed-length digests for every guess, right or wrong', () => {
    const check = createBasicAuthCheck({ user: USER, pass: PASS });
    const guesses: (string | undefined)[] = [
      undefined,
      '',
      'Basic',
      'Bearer x',
      AUTH,
      basic(USER, `X${PASS.slice(1)}`), // wrong first byte
      basic(USER, `${PASS.slice(0, -1)}X`), // wrong last byte
      basic(USER, PASS.slice(0, 3)), // a prefix
      basic(USER, PASS.repeat(50)), // much longer
      basic('someone-else', PASS),
    ];
    for (const guess of guesses) {
      comparisons.length = 0;
      const outcome = check(guess);
      expect(outcome.ok).toBe(guess === AUTH);
      // Exactly one comparison, of two 32-byte digests, whatever the guess: no early exit on a missing or
      // malformed header, and no length that depends on the guess.
      expect(comparisons).toHaveLength(1);
      expect([comparisons[0]!.a.length, comparisons[0]!.b.length]).toEqual([32, 32]);
    }
    // The timing itself is not measured here: the difference a naive compare would make on a password is
    // nanoseconds, far below this shared machine's noise, so a timed assertion could only be flaky or unable
    // to fail. What makes the time independent of the guess is what is checked above.
  });
});
