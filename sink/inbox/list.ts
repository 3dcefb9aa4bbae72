/** The list of webhooks: rows in key order (newest first), details built on first expansion, the footer. */
import { el, ensureEventOption, highlightJson, ui } from './dom.js';
import { hasFilters } from './filters.js';
import { absoluteTime, prettyJson, relativeTime, signedText, statusTone, subjectOf, textOf } from './format.js';
import { state, type Envelope } from './state.js';

/** The list never holds more rows than this: older ones are dropped and can be loaded again. */
export const MAX_ROWS = 500;

/** The envelope of each detail not built yet: most rows are never opened. */
const detailBodies = new WeakMap<HTMLElement, Envelope>();

export function noteKey(key: number): void {
  if (state.highestKey === null || key > state.highestKey) state.highestKey = key;
}

export function clearList(): void {
  state.rows.clear();
  ui.list.replaceChildren();
}

const rowKey = (row: Element | null): number => Number(row instanceof HTMLElement ? row.dataset.key : NaN);

/** Adds a record at its place (keys descending); returns false for one already shown. */
export function insert(envelope: Envelope, fresh: boolean): boolean {
  noteKey(envelope.key);
  ensureEventOption(ui.event, envelope.event);
  if (state.rows.has(envelope.key)) return false;
  const row = renderRow(envelope, fresh);
  let before = ui.list.firstElementChild;
  while (before && rowKey(before) > envelope.key) before = before.nextElementSibling;
  ui.list.insertBefore(row, before);
  state.rows.set(envelope.key, row);
  while (state.rows.size > MAX_ROWS) {
    const last = ui.list.lastElementChild;
    if (!last) break;
    state.rows.delete(rowKey(last));
    last.remove();
    state.hasOlder = true;
  }
  return true;
}

function renderRow(envelope: Envelope, fresh: boolean): HTMLLIElement {
  const key = String(envelope.key);
  const row = el('li', fresh ? 'row fresh' : 'row');
  row.dataset.key = key;

  const summary = el('button', 'summary');
  summary.type = 'button';
  summary.id = `row-${key}`;
  summary.setAttribute('aria-expanded', 'false');
  summary.setAttribute('aria-controls', `detail-${key}`);
  summary.append(el('span', 'key', `#${key}`));

  const time = el('time', 'time');
  const received = new Date(typeof envelope.receivedAt === 'string' ? envelope.receivedAt : NaN);
  if (!Number.isNaN(received.getTime())) {
    time.dateTime = received.toISOString();
    time.title = received.toLocaleString();
    fillTime(time, new Date());
  } else {
    time.textContent = '–';
  }
  summary.append(time, el('span', 'event', textOf(envelope.event)));

  const status = envelope.status === undefined || envelope.status === null ? '' : String(envelope.status);
  summary.append(el('span', `status tone-${statusTone(status)}`, status || '–'));

  const live = envelope.liveMode;
  const mode = live === true ? 'live' : live === false ? 'test' : 'unknown';
  summary.append(el('span', `mode mode-${mode}`, mode === 'unknown' ? '?' : mode));
  const subject = el('span', 'subject', subjectOf(envelope));
  if (envelope.verified === true) {
    // Only the sink's own check earns the mark: the forwarder's verification is not visible from here.
    const mark = el('span', 'verified', 'verified');
    mark.title = "The sink checked UP42's signature on this webhook";
    subject.append(' ', mark);
  }
  summary.append(subject);

  const detail = el('div', 'detail');
  detail.id = `detail-${key}`;
  detail.hidden = true;
  detailBodies.set(detail, envelope);

  row.append(summary, detail);
  return row;
}

function fillTime(time: HTMLTimeElement, now: Date): void {
  const d = new Date(time.dateTime);
  const rel = el('span', 'rel', relativeTime(d.getTime(), now.getTime()));
  time.replaceChildren(rel, el('span', 'abs', absoluteTime(d, now)));
}

export function refreshTimes(): void {
  const now = new Date();
  for (const time of ui.list.querySelectorAll('time.time')) {
    if (time instanceof HTMLTimeElement && time.dateTime) fillTime(time, now);
  }
}

function buildDetail(detail: HTMLElement): void {
  const envelope = detailBodies.get(detail);
  if (!envelope) return;
  detailBodies.delete(detail);
  const text = prettyJson(envelope.body);
  const copy = el('button', 'copy secondary', 'Copy JSON');
  copy.type = 'button';
  const note = el('span', 'copied');
  note.setAttribute('aria-live', 'polite');
  copy.addEventListener('click', async () => {
    const done = await copyText(text);
    note.textContent = done ? 'Copied' : 'Copy failed: select the text instead';
    setTimeout(() => (note.textContent = ''), 2000);
  });
  const bar = el('div', 'detail-bar');
  const receivedAt = typeof envelope.receivedAt === 'string' ? envelope.receivedAt : '';
  const facts = el('span', 'received', `message ${textOf(envelope.messageId)} · received ${receivedAt}`);
  const signed = signedText(envelope);
  bar.append(copy, note, facts);
  if (signed !== null) bar.append(el('span', 'signed', signed));
  const pre = el('pre', 'json');
  const code = el('code');
  highlightJson(text, code);
  pre.append(code);
  pre.tabIndex = 0;
  detail.append(bar, pre);
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No Clipboard API (or no permission): the old selection-based command still works in most browsers.
    const area = el('textarea', 'offscreen');
    area.value = text;
    area.setAttribute('readonly', '');
    document.body.append(area);
    area.select();
    let done: boolean;
    try {
      done = document.execCommand('copy');
    } catch {
      done = false;
    }
    area.remove();
    return done;
  }
}

export function setOpen(summary: Element, open: boolean): void {
  const detail = summary.nextElementSibling;
  if (!(detail instanceof HTMLElement)) return;
  if (open) buildDetail(detail);
  detail.hidden = !open;
  summary.setAttribute('aria-expanded', String(open));
  summary.parentElement?.classList.toggle('open', open);
}

export const toggle = (summary: Element): void => setOpen(summary, summary.getAttribute('aria-expanded') !== 'true');

/** Expands, shows and focuses the row of `key`; false when the list does not hold it. */
export function openRow(key: number): boolean {
  const summary = state.rows.get(key)?.querySelector('button.summary');
  if (!(summary instanceof HTMLButtonElement)) return false;
  setOpen(summary, true);
  summary.scrollIntoView({ block: 'center' });
  summary.focus();
  return true;
}

export function renderFoot(message?: string): void {
  const n = state.rows.size;
  ui.older.hidden = !state.hasOlder;
  ui.empty.hidden = !(state.loaded && n === 0);
  if (state.loaded && n === 0) {
    ui.empty.textContent = hasFilters(state.filters)
      ? 'No stored webhook matches these filters.'
      : 'No webhooks yet: they appear here as soon as the sink receives one.';
  }
  if (message !== undefined) {
    ui.shown.textContent = message;
    return;
  }
  if (n === 0) {
    ui.shown.textContent = '';
    return;
  }
  const what = n === 1 ? 'webhook' : 'webhooks';
  const which = hasFilters(state.filters) ? ' matching the filters' : '';
  const more = state.hasOlder ? ', older ones below' : '';
  ui.shown.textContent = `${n.toLocaleString('en-US')} ${what}${which} shown${more}`;
}
