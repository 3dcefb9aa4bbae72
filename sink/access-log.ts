/**
 * nginx's "combined" access log line, so the article's `awk '$0 ~ "GET /ping"'` keeps working:
 *   127.0.0.1 - user [30/Nov/2026:07:01:43 +0000] "GET /ping HTTP/1.1" 200 4 "-" "curl/8.5.0"
 * Pure. Like nginx, quotes, backslashes, control and non-ASCII bytes in logged values become \xHH, so a
 * client cannot forge a line or break the fields. Times are UTC.
 */
export interface AccessLogEntry {
  remoteAddr: string;
  /** The authenticated user name, or null. Never a password or an Authorization value. */
  user: string | null;
  /** Milliseconds since the epoch (Date.now()): no Date object per request. */
  time: number;
  /** The request line (method, target, protocol), or null when the request could not be parsed. */
  request: string | null;
  status: number;
  bodyBytes: number;
  referer: string | undefined;
  userAgent: string | undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

let cachedSecond = NaN;
let cachedText = '';

export function formatLogTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === cachedSecond) return cachedText;
  const time = new Date(second * 1000);
  cachedSecond = second;
  cachedText =
    `${pad(time.getUTCDate())}/${MONTHS[time.getUTCMonth()]}/${time.getUTCFullYear()}` +
    `:${pad(time.getUTCHours())}:${pad(time.getUTCMinutes())}:${pad(time.getUTCSeconds())} +0000`;
  return cachedText;
}

const hex = (b: number) => `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`;

/** Header values reach Node as latin1 code units (one per byte); anything wider is encoded as UTF-8 first. */
export function escapeLogValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\x00-\x1f"\\\x7f-\uffff]/.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) out += ch;
    else if (c <= 0xff) out += hex(c);
    else for (const b of Buffer.from(ch, 'utf8')) out += hex(b);
  }
  return out;
}

/** Longest logged value, as nginx's 8 KB header buffers: a huge path or header cannot inflate the log. */
export const MAX_LOGGED_CHARS = 8192;

function field(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  // Cut before escaping too, so a value of quotes (four bytes each once escaped) costs no more than its cap.
  const escaped = escapeLogValue(value.length > MAX_LOGGED_CHARS ? value.slice(0, MAX_LOGGED_CHARS) : value);
  if (escaped.length <= MAX_LOGGED_CHARS && value.length <= MAX_LOGGED_CHARS) return escaped;
  // Never cut inside a \xHH escape.
  const cut = escaped.slice(0, MAX_LOGGED_CHARS - 3).replace(/\\x?[0-9A-F]?$/, '');
  return `${cut}...`;
}

export function formatAccessLog(e: AccessLogEntry): string {
  const addr = e.remoteAddr.startsWith('::ffff:') ? e.remoteAddr.slice(7) : e.remoteAddr;
  return (
    `${field(addr)} - ${field(e.user)} [${formatLogTime(e.time)}] "${field(e.request)}" ${e.status} ${e.bodyBytes}` +
    ` "${field(e.referer)}" "${field(e.userAgent)}"`
  );
}
