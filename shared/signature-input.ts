import { fail, ok, type Result } from './result.js';

/** The `signature-input` member for one label: `up42-sig=("h1" "h2");created=1658759606;...`. */
export interface SignatureInput {
  label: string;
  /** Header names in signing order, lowercased. */
  components: string[];
  /** Unix seconds. */
  created: number;
  /** Every other `;key=value` parameter, raw (quotes removed). Null prototype: keys come from the wire. */
  params: Readonly<Record<string, string>>;
}

export type SignatureInputError =
  | 'empty'
  | 'too-long'
  | 'syntax'
  | 'duplicate-label'
  | 'label-not-found'
  | 'no-components'
  | 'duplicate-component'
  | 'duplicate-parameter'
  | 'missing-created'
  | 'invalid-created';

export const SIGNATURE_INPUT_MAX_LENGTH = 8192;
export const DEFAULT_LABEL = 'up42-sig';

// 12 digits reach the year 33658: anything longer is not a timestamp, and it keeps Number exact.
const MAX_CREATED_DIGITS = 12;

const isLcAlpha = (c: number) => c >= 0x61 && c <= 0x7a;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isKeyChar = (c: number) => isLcAlpha(c) || isDigit(c) || c === 0x5f || c === 0x2d || c === 0x2e || c === 0x2a;

// tchar from RFC 9110, plus '@' for the derived components of RFC 9421.
const TOKEN = /^[!#$%&'*+\-.^_`|~@0-9A-Za-z]+$/;
// A bare parameter value: tchar, ':' and '/' (so `nonce=abc:def/1` passes), with at least one tchar among them.
const BARE_VALUE = /^[!#$%&'*+\-.^_`|~@0-9A-Za-z:/]+$/;

/** Whether text[start, end) is a non-empty token: a header name, or a label of a derived component. */
const isToken = (text: string, start: number, end: number) => TOKEN.test(text.slice(start, end));

function isBareValue(text: string, start: number, end: number): boolean {
  const value = text.slice(start, end);
  return BARE_VALUE.test(value) && /[^:/]/.test(value);
}

interface Member {
  label: string;
  components: string[];
  params: [string, string][];
}

// The scanner's helpers take a position and return one, so the position stays a local of scanMembers.
const isSpace = (c: number) => c === 0x20 || c === 0x09;
const isBareEnd = (c: number) => c === 0x3b || c === 0x2c || isSpace(c);

function skipSpaces(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** End of the key starting at `i`; `i` itself when there is none. */
function keyEnd(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (!(isLcAlpha(first) || first === 0x2a)) return i;
  i++;
  while (i < text.length && isKeyChar(text.charCodeAt(i))) i++;
  return i;
}

/** Position just past the closing quote of the string opening at `i`, or -1. */
function quotedEnd(text: string, i: number): number {
  if (text.charCodeAt(i) !== 0x22) return -1;
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c || c < 0x20 || c > 0x7e) return -1; // escapes and non-printables have no place here
  }
  return -1;
}

function bareEnd(text: string, i: number): number {
  while (i < text.length && !isBareEnd(text.charCodeAt(i))) i++;
  return i;
}

const syntax = (message: string, at: number) => fail('syntax' as const, `${message} at offset ${at}`);

/**
 * A single-pass scanner over the structured-field dictionary that carries the signature inputs.
 * Every loop advances the position, so the time is linear in the (capped) input length.
 */
function scanMembers(text: string): Result<Member[], SignatureInputError> {
  const n = text.length;
  const members: Member[] = [];
  let i = skipSpaces(text, 0);
  for (;;) {
    const labelEnd = keyEnd(text, i);
    if (labelEnd === i) return syntax('expected a label', i);
    const label = text.slice(i, labelEnd);
    i = labelEnd;
    if (text.charCodeAt(i) !== 0x3d) return syntax(`expected '=' after label "${label}"`, i);
    i++;
    if (text.charCodeAt(i) !== 0x28) return syntax('expected "(" opening the component list', i);
    i++;
    const components: string[] = [];
    for (;;) {
      const before = i;
      i = skipSpaces(text, i);
      if (i >= n) return syntax('unbalanced parentheses: the component list is not closed', i);
      if (text.charCodeAt(i) === 0x29) {
        i++;
        break;
      }
      if (components.length > 0 && i === before) return syntax('expected a space between components', i);
      const end = quotedEnd(text, i);
      if (end < 0) return syntax('expected a quoted header name or ")"', i);
      const name = text.slice(i + 1, end - 1);
      if (!isToken(text, i + 1, end - 1)) return fail('syntax', `invalid header name "${name}" in the component list`);
      components.push(name.toLowerCase());
      i = end;
    }
    const params: [string, string][] = [];
    while (text.charCodeAt(i) === 0x3b) {
      i = skipSpaces(text, i + 1);
      const end = keyEnd(text, i);
      if (end === i) return syntax('expected a parameter name after ";"', i);
      const key = text.slice(i, end);
      i = end;
      if (text.charCodeAt(i) !== 0x3d) return syntax(`expected '=' after parameter "${key}"`, i);
      i++;
      let value: string | null = null;
      if (text.charCodeAt(i) === 0x22) {
        const close = quotedEnd(text, i);
        if (close >= 0) {
          value = text.slice(i + 1, close - 1);
          i = close;
        }
      } else {
        const stop = bareEnd(text, i);
        if (isBareValue(text, i, stop)) value = text.slice(i, stop);
        i = stop;
      }
      if (value === null) return syntax(`invalid value for parameter "${key}"`, i);
      params.push([key, value]);
    }
    members.push({ label, components, params });
    i = skipSpaces(text, i);
    if (i >= n) return ok(members);
    if (text.charCodeAt(i) !== 0x2c) return syntax('expected "," or the end of the header', i);
    i = skipSpaces(text, i + 1);
  }
}

const hasDuplicates = (names: readonly string[]) => new Set(names).size !== names.length;

/**
 * Parses a `signature-input` header and returns the member for `label`. Never throws: malformed
 * input of any shape or size comes back as `{ ok: false, reason }`.
 */
export function parseSignatureInput(
  value: string,
  label: string = DEFAULT_LABEL,
): Result<SignatureInput, SignatureInputError> {
  const trimmed = typeof value === 'string' ? value.trim() : '';
  if (trimmed === '') return fail('empty', 'the signature-input header is empty');
  if (value.length > SIGNATURE_INPUT_MAX_LENGTH) {
    return fail('too-long', `the signature-input header is longer than ${SIGNATURE_INPUT_MAX_LENGTH} characters`);
  }
  const scanned = scanMembers(trimmed);
  if (!scanned.ok) return scanned;

  const seen = new Set<string>();
  for (const member of scanned.value) {
    if (seen.has(member.label)) return fail('duplicate-label', `the label "${member.label}" appears more than once`);
    seen.add(member.label);
  }
  const member = scanned.value.find((m) => m.label === label);
  if (!member) return fail('label-not-found', `no "${label}" signature in signature-input`);
  if (member.components.length === 0) return fail('no-components', 'the component list is empty: nothing is signed');
  if (hasDuplicates(member.components)) {
    return fail('duplicate-component', 'a header is listed twice in the component list');
  }

  const params: Record<string, string> = Object.create(null);
  let created: string | undefined;
  for (const [key, raw] of member.params) {
    if (key === 'created' ? created !== undefined : key in params) {
      return fail('duplicate-parameter', `the parameter "${key}" appears more than once`);
    }
    if (key === 'created') created = raw;
    else params[key] = raw;
  }
  if (created === undefined) return fail('missing-created', 'signature-input has no "created" parameter');
  if (!/^[0-9]+$/.test(created) || created.length > MAX_CREATED_DIGITS) {
    return fail('invalid-created', '"created" is not a Unix time in seconds');
  }
  return ok({ label, components: member.components, created: Number(created), params });
}

/** Serialises a signature-input member the way UP42 sends it. */
export function formatSignatureInput(label: string, components: readonly string[], created: number): string {
  return `${label}=(${components.map((c) => `"${c}"`).join(' ')});created=${created}`;
}
