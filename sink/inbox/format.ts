/** Pure helpers of the page: text for numbers, times and statuses. */
import { subjectOf as subjectOfPayload } from '../../shared/events.js';
import { normalizeStatus } from '../../shared/status.js';

export type Tone = 'ok' | 'bad' | 'warn' | 'other';

/** The colour family of a status, in the sink's canonical form of it. */
export function statusTone(status: string): Tone {
  switch (normalizeStatus(status)) {
    case 'SUCCEEDED':
    case 'FULFILLED':
      return 'ok';
    case 'FAILED':
    case 'ERROR':
    case 'FAILED_PERMANENTLY':
      return 'bad';
    case 'CANCELLED':
    case 'CANCELED':
      return 'warn';
    default:
      return 'other';
  }
}

/** A field of an untrusted record as display text; absent or null as a dash. */
export const textOf = (v: unknown): string => (v === undefined || v === null ? '–' : String(v));

/** "Job f1a2…", "Order 8a7b… (ARCHIVE)": what a webhook is about (shared/events.ts), else its message id. */
export function subjectOf(envelope: { messageId?: unknown; body?: unknown }): string {
  return subjectOfPayload(envelope.body) ?? `Message ${textOf(envelope.messageId)}`;
}

/** The headers a verified signature covers, as the detail lists them; null when there are none to show. */
export function signedText(envelope: { signed?: unknown }): string | null {
  const signed = envelope.signed;
  if (!Array.isArray(signed) || signed.length === 0) return null;
  return `signature covers ${signed.map((h) => textOf(h)).join(', ')}`;
}

export function prettyJson(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${i === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** How full the store is, as the header shows it: "12 KiB of 256 MiB (< 0.1% full)". */
export function fillText(bytes: number, max: number): string {
  const pct = Math.min(1, bytes / max) * 100;
  const shown = pct > 0 && pct < 0.1 ? '< 0.1' : pct < 10 ? pct.toFixed(1) : String(Math.round(pct));
  return `${formatBytes(bytes)} of ${formatBytes(max)} (${shown}% full)`;
}

export function relativeTime(then: number, now: number): string {
  const s = Math.round((now - then) / 1000);
  if (!Number.isFinite(s)) return '';
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function absoluteTime(d: Date, now: Date): string {
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}
