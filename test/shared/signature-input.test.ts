import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  formatSignatureInput,
  parseSignatureInput,
  SIGNATURE_INPUT_MAX_LENGTH,
  type SignatureInputError,
} from '../../shared/signature-input.js';

const REASONS: readonly SignatureInputError[] = [
  'empty',
  'too-long',
  'syntax',
  'duplicate-label',
  'label-not-found',
  'no-components',
  'duplicate-component',
  'duplicate-parameter',
  'missing-created',
  'invalid-created',
];

describe('parseSignatureInput: well-formed headers', () => {
  it("parses the shape of UP42's sample: label, components in order, created", () => {
    const parsed = parseSignatureInput('up42-sig=("content-type" "date" "content-digest");created=1658759606');
    expect(parsed).toEqual({
      ok: true,
      value: {
        label: 'up42-sig',
        components: ['content-type', 'date', 'content-digest'],
        created: 1658759606,
        params: {},
      },
    });
  });

  it('keeps every other parameter, quotes removed, in a null-prototype record', () => {
    const parsed = parseSignatureInput(
      'up42-sig=("date");created=1658759606;keyid="webhook-1";alg=hmac-sha256;expires=1658760000;nonce=abc:def/1',
    );
    if (!parsed.ok) throw new Error(parsed.message);
    expect({ ...parsed.value.params }).toEqual({
      keyid: 'webhook-1',
      alg: 'hmac-sha256',
      expires: '1658760000',
      nonce: 'abc:def/1',
    });
    expect(Object.getPrototypeOf(parsed.value.params)).toBeNull();
  });

  it('keeps a parameter named like an Object.prototype member as plain data', () => {
    const parsed = parseSignatureInput('up42-sig=("date");created=1;constructor=x;tostring=y');
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.value.params['constructor']).toBe('x');
    expect(parsed.value.params['tostring']).toBe('y');
  });

  it('lowercases component names, so header case does not matter', () => {
    const parsed = parseSignatureInput('up42-sig=("Content-Type" "DATE");created=1');
    expect(parsed.ok && parsed.value.components).toEqual(['content-type', 'date']);
  });

  it('accepts spaces inside the list, after ";", and around the whole header', () => {
    const lenient = parseSignatureInput('\t up42-sig=( "content-type"  "date" ); created=5; x=1 \t');
    expect(lenient.ok && lenient.value).toMatchObject({
      components: ['content-type', 'date'],
      created: 5,
      params: { x: '1' },
    });
  });

  it('picks its own label out of a dictionary with other signatures', () => {
    const header = 'sig1=("@method" "@path");created=1, up42-sig=("date");created=2';
    expect(parseSignatureInput(header)).toMatchObject({
      ok: true,
      value: { label: 'up42-sig', components: ['date'], created: 2 },
    });
    expect(parseSignatureInput(header, 'sig1')).toMatchObject({
      ok: true,
      value: { label: 'sig1', components: ['@method', '@path'], created: 1 },
    });
  });

  it('accepts created with 12 digits and 0', () => {
    expect(parseSignatureInput('up42-sig=("date");created=999999999999')).toMatchObject({
      ok: true,
      value: { created: 999999999999 },
    });
    expect(parseSignatureInput('up42-sig=("date");created=0')).toMatchObject({ ok: true, value: { created: 0 } });
  });

  it('accepts a header exactly at the length cap', () => {
    const head = 'up42-sig=("date");created=1;pad=';
    const header = head + 'a'.repeat(SIGNATURE_INPUT_MAX_LENGTH - head.length);
    expect(header.length).toBe(SIGNATURE_INPUT_MAX_LENGTH);
    expect(parseSignatureInput(header).ok).toBe(true);
  });

  it('accepts a long component list whose names are all different', () => {
    const names = Array.from({ length: 40 }, (_, i) => `x-header-${i}`);
    expect(parseSignatureInput(formatSignatureInput('up42-sig', names, 1))).toMatchObject({
      ok: true,
      value: { components: names },
    });
  });

  it('reads back what formatSignatureInput writes', () => {
    const header = formatSignatureInput('up42-sig', ['content-type', 'date', 'content-digest'], 1764489600);
    expect(header).toBe('up42-sig=("content-type" "date" "content-digest");created=1764489600');
    expect(parseSignatureInput(header)).toMatchObject({
      ok: true,
      value: { components: ['content-type', 'date', 'content-digest'], created: 1764489600 },
    });
  });
});

describe('parseSignatureInput: malformed headers, each with its reason', () => {
  const cases: [string, string, SignatureInputError][] = [
    ['empty', '', 'empty'],
    ['only spaces', '   \t ', 'empty'],
    [
      'one character over 8 KiB',
      'up42-sig=("date");created=1;pad=' + 'a'.repeat(SIGNATURE_INPUT_MAX_LENGTH),
      'too-long',
    ],
    ['8 KiB + 1 of garbage', '('.repeat(SIGNATURE_INPUT_MAX_LENGTH + 1), 'too-long'],
    ['unclosed list', 'up42-sig=("content-type" "date"', 'syntax'],
    ['unclosed list before parameters', 'up42-sig=("content-type" "date";created=1', 'syntax'],
    ['no opening parenthesis', 'up42-sig="content-type" "date");created=1', 'syntax'],
    ['nested parentheses', 'up42-sig=(("date"));created=1', 'syntax'],
    ['extra closing parenthesis', 'up42-sig=("date"));created=1', 'syntax'],
    ['unterminated quote', 'up42-sig=("date);created=1', 'syntax'],
    ['unquoted component', 'up42-sig=(date);created=1', 'syntax'],
    ['components without a space between them', 'up42-sig=("date""content-type");created=1', 'syntax'],
    ['empty component name', 'up42-sig=("");created=1', 'syntax'],
    ['space in a component name', 'up42-sig=("content type");created=1', 'syntax'],
    ['escape in a component name', 'up42-sig=("da\\"te");created=1', 'syntax'],
    ['non-ASCII component name', 'up42-sig=("dätum");created=1', 'syntax'],
    ['control character in a component name', 'up42-sig=("da\u0000te");created=1', 'syntax'],
    ['no "=" after the label', 'up42-sig ("date");created=1', 'syntax'],
    ['upper-case label', 'UP42-SIG=("date");created=1', 'syntax'],
    ['label only', 'up42-sig', 'syntax'],
    ['label and "=" only', 'up42-sig=', 'syntax'],
    ['trailing comma', 'up42-sig=("date");created=1,', 'syntax'],
    ['space before ";"', 'up42-sig=("date") ;created=1', 'syntax'],
    ['";" with no parameter', 'up42-sig=("date");', 'syntax'],
    ['parameter without value', 'up42-sig=("date");created', 'syntax'],
    ['created with an empty value', 'up42-sig=("date");created=', 'syntax'],
    ['a lone comma', ',', 'syntax'],
    ['a JSON object', '{"up42-sig":"x"}', 'syntax'],
    ['no created', 'up42-sig=("content-type" "date")', 'missing-created'],
    ['no created, other parameters', 'up42-sig=("date");keyid="k";expires=1', 'missing-created'],
    ['created not digits', 'up42-sig=("date");created=yesterday', 'invalid-created'],
    ['created with a letter', 'up42-sig=("date");created=16587596O6', 'invalid-created'],
    ['created negative', 'up42-sig=("date");created=-1658759606', 'invalid-created'],
    ['created fractional', 'up42-sig=("date");created=1658759606.5', 'invalid-created'],
    ['created with 13 digits', 'up42-sig=("date");created=1658759606000', 'invalid-created'],
    ['created with 25 digits', 'up42-sig=("date");created=1234567890123456789012345', 'invalid-created'],
    ['created quoted and not digits', 'up42-sig=("date");created="soon"', 'invalid-created'],
    ['duplicate label', 'up42-sig=("date");created=1, up42-sig=("content-type");created=2', 'duplicate-label'],
    [
      'duplicate label of another signature',
      'sig1=("date");created=1, sig1=("date");created=1, up42-sig=("date");created=1',
      'duplicate-label',
    ],
    ['another label only', 'sig1=("content-type" "date");created=1658759606', 'label-not-found'],
    ['a label that merely starts like ours', 'up42-sig2=("date");created=1', 'label-not-found'],
    ['empty component list', 'up42-sig=();created=1', 'no-components'],
    ['a component listed twice', 'up42-sig=("date" "content-type" "date");created=1', 'duplicate-component'],
    ['a component listed twice in different case', 'up42-sig=("Date" "date");created=1', 'duplicate-component'],
    ...[2, 16, 17, 40].map((length): [string, string, SignatureInputError] => [
      `the last of ${length} components repeating the first`,
      `up42-sig=(${Array.from({ length }, (_, i) => `"h${i === length - 1 ? 0 : i}"`).join(' ')});created=1`,
      'duplicate-component',
    ]),
    ['a bare parameter value of only ":" and "/"', 'up42-sig=("date");created=1;nonce=:/', 'syntax'],
    ['a bare parameter value with a character outside tchar', 'up42-sig=("date");created=1;nonce=a(b', 'syntax'],
    ['a bare parameter value with a non-ASCII character', 'up42-sig=("date");created=1;nonce=caf\u00e9', 'syntax'],
    ['created twice', 'up42-sig=("date");created=1;created=2', 'duplicate-parameter'],
    ['another parameter twice', 'up42-sig=("date");created=1;keyid=a;keyid=b', 'duplicate-parameter'],
  ];

  it.each(cases)('%s -> %s', (_name, header, reason) => {
    const parsed = parseSignatureInput(header);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.reason).toBe(reason);
    expect(typeof parsed.message).toBe('string');
    expect(parsed.message.length).toBeGreaterThan(0);
  });

  it('answers too-long for a 1 MiB adversarial header (never scans it)', () => {
    const adversarial = 'up42-sig=(' + '"a" '.repeat((1024 * 1024) / 4);
    expect(parseSignatureInput(adversarial)).toMatchObject({ ok: false, reason: 'too-long' });
    expect(parseSignatureInput('('.repeat(1024 * 1024))).toMatchObject({ ok: false, reason: 'too-long' });
  });

  it('returns a typed error for values that are not strings at all (callers in plain JavaScript)', () => {
    for (const value of [undefined, null, 42, {}, ['up42-sig=("date");created=1']]) {
      expect(parseSignatureInput(value as unknown as string)).toMatchObject({ ok: false, reason: 'empty' });
    }
  });

  it('answers adversarial inputs just under the cap with a typed error', () => {
    const room = SIGNATURE_INPUT_MAX_LENGTH;
    const inputs = [
      'up42-sig=(' + '"a" '.repeat((room - 20) / 4),
      'up42-sig=("date")' + ';a=1'.repeat((room - 20) / 4),
      'a=("b");created=1, '.repeat(Math.floor(room / 20)).slice(0, room),
      '"'.repeat(room),
      'up42-sig=("' + 'a'.repeat(room - 30) + '"',
      ' '.repeat(room - 1) + 'x',
    ];
    for (const input of inputs) {
      expect(input.length).toBeLessThanOrEqual(room);
      const parsed = parseSignatureInput(input);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(REASONS).toContain(parsed.reason);
    }
  });
});

describe('parseSignatureInput: properties', () => {
  const expectTyped = (value: string) => {
    const parsed = parseSignatureInput(value);
    if (parsed.ok) {
      expect(Array.isArray(parsed.value.components)).toBe(true);
      expect(Number.isSafeInteger(parsed.value.created)).toBe(true);
    } else {
      expect(REASONS).toContain(parsed.reason);
    }
  };

  it('never throws and always answers with a known reason, for any string up to 8 KiB', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: SIGNATURE_INPUT_MAX_LENGTH, size: 'max' }), expectTyped),
      { numRuns: 150 },
    );
  });

  it('never throws on strings built from the grammar’s own tokens', () => {
    const token = fc.constantFrom(
      'up42-sig',
      'sig1',
      '=',
      '(',
      ')',
      '"',
      '"date"',
      ' ',
      '\t',
      ';',
      ',',
      'created',
      'created=',
      '1658759606',
      '-',
      'x',
      '\\',
      '\u00e4',
    );
    fc.assert(fc.property(fc.string({ unit: token, maxLength: 120 }), expectTyped), { numRuns: 1000 });
  });

  it('reads back any list it formats', () => {
    const name = fc.stringMatching(/^[a-z@][a-z0-9!#$%&'*+.^_`|~-]{0,20}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 999_999_999_999 }),
        (components, created) => {
          const parsed = parseSignatureInput(formatSignatureInput('up42-sig', components, created));
          expect(parsed).toEqual({ ok: true, value: { label: 'up42-sig', components, created, params: {} } });
        },
      ),
      { numRuns: 300 },
    );
  });
});
