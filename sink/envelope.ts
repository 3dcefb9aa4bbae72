import { hasLineBreak } from './store/record.js';
import type { StoredRecord } from './store/types.js';

/**
 * How the sink shows a stored webhook: one line of the dump (the body alone, or with its metadata as an
 * envelope with `envelope=1`) and the data of a live event. Not the on-disk format, which is record.ts's.
 */

/** A JSON text without insignificant whitespace, numbers and strings untouched (no parse/stringify round trip). */
export function compactJson(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length);
  let n = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      // JSON's insignificant whitespace: space, tab, LF, CR.
      continue;
    }
    out[n++] = c;
  }
  return out.subarray(0, n);
}

/** The body as one dump line: as received when it is already on one line, else compacted. */
export function bodyLine(body: Buffer): Buffer {
  return hasLineBreak(body) ? compactJson(body) : body;
}

/** The envelope line of the dump (`envelope=1`) and of the live event stream, without a trailing LF. */
export function envelopeLine(record: StoredRecord): Buffer {
  const prefix =
    `{"key":${record.key},"receivedAt":"${record.receivedAt}","messageId":${JSON.stringify(record.messageId)}` +
    `,"event":${JSON.stringify(record.event)},"status":${JSON.stringify(record.status)}` +
    `,"liveMode":${record.liveMode === null ? 'null' : String(record.liveMode)}` +
    `,"verified":${record.verified ?? null},"signed":${JSON.stringify(record.signed ?? null)},"body":`;
  return Buffer.concat([Buffer.from(prefix), bodyLine(record.body), Buffer.from('}')]);
}
