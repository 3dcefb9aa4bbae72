/** Shaping untrusted text (server replies, error messages) into one printable line. */

/** Replaces control characters (a reply could move the cursor or clear the terminal) and collapses whitespace. */
export function oneLine(text: string, maxChars = 300): string {
  const flat = text
    // eslint-disable-next-line no-control-regex -- control characters are exactly what this strips
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (flat.length <= maxChars) return flat;
  return `${flat.slice(0, maxChars)}…(${flat.length - maxChars} more chars)`;
}

/** A reply body as one line: JSON re-serialised compactly, anything else flattened. */
export function compactReply(body: string, maxChars = 300): string {
  if (body.trim() === '') return '(empty reply)';
  try {
    return oneLine(JSON.stringify(JSON.parse(body)), maxChars);
  } catch {
    return oneLine(body, maxChars);
  }
}

const REDACTED = '[redacted]';

/**
 * Removes what looks like a credential from text that is about to be printed: bearer values, JWTs,
 * `access_token`/`password`/`secret` fields, long opaque tokens, and any of the given known secrets.
 */
export function redact(text: string, knownSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out
    .replace(/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`)
    .replace(/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, REDACTED)
    .replace(
      /("?(?:(?:access_|refresh_|id_)?token|password|(?:client_)?secret)"?\s*[:=]\s*)("[^"]*"|[^\s,&}]+)/gi,
      `$1${REDACTED}`,
    )
    .replace(/\b[A-Za-z0-9_-]{40,}\b/g, REDACTED);
}
