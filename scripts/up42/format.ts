import { oneLine } from '../cli/text.js';
import type { TestRun, Webhook } from './client.js';

/**
 * Output of the up42 CLI: tables for people, JSON for scripts. A webhook's secret is replaced by MASK
 * in both unless --show-secret: fixed width, so it tells neither the secret's start nor its length.
 */
export const MASK = '********';

/** `secret` replaced by MASK when it holds one (null/absent stay as UP42 returned them). */
export function maskWebhook(webhook: Webhook, showSecret: boolean): Webhook {
  if (showSecret || typeof webhook.secret !== 'string' || webhook.secret === '') return webhook;
  return { ...webhook, secret: MASK };
}

export function secretCell(secret: unknown, showSecret: boolean): string {
  if (typeof secret !== 'string' || secret === '') return '-';
  return showSecret ? cell(secret, 200) : MASK;
}

/** A value as one table cell: no control characters, no line breaks, bounded width. */
export function cell(value: unknown, max = 60): string {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return oneLine(value.join(','), max);
  return oneLine(typeof value === 'string' ? value : JSON.stringify(value), max);
}

/** Columns padded to their widest cell; the last column is not padded. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function webhooksTable(webhooks: readonly Webhook[], showSecret: boolean): string {
  if (webhooks.length === 0) return 'no webhooks in this workspace';
  return renderTable(
    ['ID', 'NAME', 'URL', 'EVENTS', 'ACTIVE', 'SECRET'],
    webhooks.map((w) => [
      cell(w.id, 40),
      cell(w.name, 30),
      cell(w.url, 60),
      cell(w.events, 40),
      cell(w.active),
      secretCell(w.secret, showSecret),
    ]),
  );
}

const DETAIL_ORDER = ['id', 'name', 'url', 'events', 'active', 'secret', 'createdAt', 'updatedAt'];

/** One webhook as `field  value` lines: the known fields first, then whatever else UP42 returned. */
export function webhookDetails(webhook: Webhook, showSecret: boolean): string {
  const keys = [
    ...DETAIL_ORDER.filter((k) => k in webhook),
    ...Object.keys(webhook).filter((k) => !DETAIL_ORDER.includes(k)),
  ];
  const rows = keys.map((k) => [k, k === 'secret' ? secretCell(webhook.secret, showSecret) : cell(webhook[k], 200)]);
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return rows.map(([k, v]) => `${k!.padEnd(width)}  ${v}`).join('\n');
}

/** Events as a list of names, of objects with a name, or an object keyed by name: each shape is shown. */
export function eventsTable(data: unknown): string {
  const list = Array.isArray(data)
    ? data
    : typeof data === 'object' && data !== null
      ? Object.entries(data).map(([name, details]) =>
          typeof details === 'object' && details !== null ? { name, ...details } : { name, details },
        )
      : [];
  if (list.length === 0) return 'no webhook events';
  const rows = list.map((e) => {
    if (typeof e === 'string') return [cell(e, 80), '-'];
    const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const rest = Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'name'));
    return [cell(o.name ?? e, 80), Object.keys(rest).length > 0 ? cell(rest, 100) : '-'];
  });
  return renderTable(['EVENT', 'DETAILS'], rows);
}

export function testSummary(id: string, run: TestRun): string {
  return `webhook ${oneLine(id, 60)}: testsRun ${cell(run.testsRun)}, testsSucceeded ${cell(run.testsSucceeded)}`;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
