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
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z@]+$/;

interface Member {
  label: string;
  components: string[];
  params: [string, string][];
}

/**
 * A single-pass scanner over the structured-field dictionary that carries the signature inputs.
 * Every loop advances the position, so the time is linear in the (capped) input length.
 */
function scanMembers(text: string): Result<Member[], SignatureInputError> {
  let i = 0;
  const n = text.length;
  const err = (message: string) => fail('syntax' as const, `${message} at offset ${i}`);
  const skipSpaces = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const readKey = (): string | null => {
    const start = i;
    const first = text.charCodeAt(i);
    if (!(isLcAlpha(first) || first === 0x2a)) return null;
    i++;
    while (i < n && isKeyChar(text.charCodeAt(i))) i++;
    return text.slice(start, i);
  };
  const readQuoted = (): string | null => {
    if (text[i] !== '"') return null;
    const start = ++i;
    while (i < n && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c === 0x5c || c < 0x20 || c > 0x7e) return null; // escapes and non-printables have no place here
      i++;
    }
    if (i >= n) return null;
    return text.slice(start, i++);
  };
  const readBareValue = (): string | null => {
    const start = i;
    while (i < n && !';, \t'.includes(text[i]!)) i++;
    const value = text.slice(start, i);
    return value.length > 0 && TCHAR.test(value.replace(/[:/]/g, '')) ? value : null;
  };

  const members: Member[] = [];
  skipSpaces();
  for (;;) {
    const label = readKey();
    if (label === null) return err('expected a label');
    if (text[i] !== '=') return err(`expected '=' after label "${label}"`);
    i++;
    if (text[i] !== '(') return err('expected "(" opening the component list');
    i++;
    const components: string[] = [];
    for (;;) {
      skipSpaces();
      if (i >= n) return err('unbalanced parentheses: the component list is not closed');
      if (text[i] === ')') {
        i++;
        break;
      }
      if (components.length > 0 && text[i - 1] !== ' ' && text[i - 1] !== '\t') return err('expected a space between components');
      const name = readQuoted();
      if (name === null) return err('expected a quoted header name or ")"');
      if (!TCHAR.test(name)) return fail('syntax', `invalid header name "${name}" in the component list`);
      components.push(name.toLowerCase());
    }
    const params: [string, string][] = [];
    while (text[i] === ';') {
      i++;
      skipSpaces();
      const key = readKey();
      if (key === null) return err('expected a parameter name after ";"');
      if (text[i] !== '=') return err(`expected '=' after parameter "${key}"`);
      i++;
      const value = text[i] === '"' ? readQuoted() : readBareValue();
      if (value === null) return err(`invalid value for parameter "${key}"`);
      params.push([key, value]);
    }
    members.push({ label, components, params });
    skipSpaces();
    if (i >= n) return ok(members);
    if (text[i] !== ',') return err('expected "," or the end of the header');
    i++;
    skipSpaces();
  }
}

/**
 * Parses a `signature-input` header and returns the member for `label`. Never throws: malformed
 * input of any shape or size comes back as `{ ok: false, reason }`.
 */
export function parseSignatureInput(
  value: string,
  label: string = DEFAULT_LABEL,
): Result<SignatureInput, SignatureInputError> {
  if (typeof value !== 'string' || value.trim() === '') return fail('empty', 'the signature-input header is empty');
  if (value.length > SIGNATURE_INPUT_MAX_LENGTH) {
    return fail('too-long', `the signature-input header is longer than ${SIGNATURE_INPUT_MAX_LENGTH} characters`);
  }
  const scanned = scanMembers(value.trim());
  if (!scanned.ok) return scanned;

  const seen = new Set<string>();
  for (const member of scanned.value) {
    if (seen.has(member.label)) return fail('duplicate-label', `the label "${member.label}" appears more than once`);
    seen.add(member.label);
  }
  const member = scanned.value.find((m) => m.label === label);
  if (!member) return fail('label-not-found', `no "${label}" signature in signature-input`);
  if (member.components.length === 0) return fail('no-components', 'the component list is empty: nothing is signed');
  if (new Set(member.components).size !== member.components.length) {
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
