/**
 * The list's data flow: a page of the sink's dump (newest first, filtered by the sink), kept current by the
 * sink's Server-Sent Events with the same filters. On every (re)connection the page asks the dump for what
 * came after the newest key it shows, so nothing stored while it was away is missed; rows are deduplicated
 * by key. The stream is opened before the dump is read, so no record falls between them.
 */
import { ui } from './dom.js';
import { filterParams } from './filters.js';
import { fillText } from './format.js';
import { clearList, insert, MAX_ROWS, noteKey, openRow, renderFoot } from './list.js';
import { errorText, fetchDump, parseJson } from './sink-api.js';
import { isEnvelope, state, type Envelope, type Stats } from './state.js';
import { sinkUrl } from './urls.js';

/** Rows fetched per page of the dump ("Load older" fetches the next one). */
const PAGE_SIZE = 100;
/** Delays between reconnection attempts, in ms; the last one repeats. */
const BACKOFF_MS = [500, 1000, 2000, 4000, 5000];
/** After this many failed attempts in a row the sink is reported offline rather than reconnecting. */
const OFFLINE_AFTER = 4;

function newRequest(): { generation: number; signal: AbortSignal } {
  state.inflight?.abort();
  state.inflight = new AbortController();
  return { generation: state.generation, signal: state.inflight.signal };
}

/** Rebuilds the list from the newest page matching the filters. */
export async function reload(): Promise<void> {
  state.generation += 1;
  state.loaded = false;
  state.pending = [];
  state.hasOlder = false;
  state.loadingOlder = false;
  state.highestKey = null;
  clearList();
  renderFoot('Loading…');
  const { generation, signal } = newRequest();
  const params = filterParams(state.filters);
  params.set('order', 'desc');
  params.set('limit', String(PAGE_SIZE));
  try {
    const records = await fetchDump(params, signal);
    if (generation !== state.generation) return;
    state.loaded = true;
    state.hasOlder = records.length === PAGE_SIZE;
    for (const r of records) insert(r, false);
    for (const r of state.pending) insert(r, true);
    state.pending = [];
    renderFoot();
    openWaiting();
  } catch (err) {
    if (generation !== state.generation || signal.aborted) return;
    // With the live stream open the sink is there: the request itself failed, and saying so is what helps.
    const streamUp = state.source?.readyState === EventSource.OPEN;
    renderFoot(
      streamUp
        ? `Could not load the webhooks: ${errorText(err)}. The live stream is up; reload the page to try again.`
        : `Could not load the webhooks (${errorText(err)}); retrying when the sink is back.`,
    );
  }
}

/** Opens the webhook a notification asked for, now that the list for the current filters is in. */
function openWaiting(): void {
  const key = state.openAfterLoad;
  if (key === null) return;
  state.openAfterLoad = null;
  if (!openRow(key)) renderFoot(`#${key} is older than the webhooks shown: "Load older" reaches it.`);
}

/** Fetches what was stored after the newest key shown: the gap left by a reconnection. */
async function catchUp(): Promise<void> {
  if (!state.loaded || state.highestKey === null) return reload();
  const { generation, signal } = newRequest();
  const params = filterParams(state.filters);
  params.set('since', String(state.highestKey));
  try {
    const records = await fetchDump(params, signal);
    if (generation !== state.generation) return;
    // A long absence: the newest page is all the list would keep anyway.
    if (records.length > MAX_ROWS) return reload();
    for (const r of records) insert(r, true);
    renderFoot();
  } catch (err) {
    if (generation !== state.generation || signal.aborted) return;
    renderFoot(`Could not catch up (${errorText(err)}).`);
  }
}

export async function loadOlder(): Promise<void> {
  const last = ui.list.lastElementChild;
  if (!state.hasOlder || state.loadingOlder || !(last instanceof HTMLElement)) return;
  state.loadingOlder = true;
  ui.older.disabled = true;
  const generation = state.generation;
  const params = filterParams(state.filters);
  params.set('order', 'desc');
  params.set('before', last.dataset.key ?? '');
  params.set('limit', String(PAGE_SIZE));
  try {
    const records = await fetchDump(params);
    if (generation !== state.generation) return;
    state.hasOlder = records.length === PAGE_SIZE;
    for (const r of records) insert(r, false);
    renderFoot();
  } catch (err) {
    if (generation === state.generation) renderFoot(`Could not load older webhooks (${errorText(err)}).`);
  } finally {
    if (generation === state.generation) state.loadingOlder = false;
    ui.older.disabled = false;
  }
}

export function setConnection(kind: string, text: string): void {
  ui.connection.dataset.state = kind;
  if (ui.connectionText.textContent !== text) ui.connectionText.textContent = text;
}

/** (Re)opens the stream with the current filters; when it opens, the list catches up (or loads). */
export function connect(): void {
  clearTimeout(state.retryTimer);
  state.source?.close();
  const query = filterParams(state.filters).toString();
  const source = new EventSource(sinkUrl(location.origin, '/events', query));
  state.source = source;
  source.addEventListener('open', () => {
    state.attempts = 0;
    setConnection('connected', 'Live');
    void catchUp();
  });
  let first = true;
  source.addEventListener('stats', (e) => {
    const stats = parseJson(e.data);
    if (typeof stats === 'object' && stats !== null) onStats(stats, first);
    first = false;
  });
  source.addEventListener('webhook', (e) => {
    const envelope = parseJson(e.data);
    if (isEnvelope(envelope)) onWebhook(envelope);
  });
  source.addEventListener('cleared', () => void reload());
  source.addEventListener('error', () => {
    if (source !== state.source) return;
    // EventSource retries by itself only after some failures, at its own pace; one policy for all.
    source.close();
    scheduleReconnect();
  });
}

/** New filters: a new stream with them, and the list rebuilt once it is open. */
export function startOver(): void {
  state.generation += 1;
  state.inflight?.abort();
  state.loaded = false;
  state.highestKey = null;
  clearList();
  renderFoot('Loading…');
  connect();
}

function scheduleReconnect(): void {
  const delay = BACKOFF_MS[Math.min(state.attempts, BACKOFF_MS.length - 1)] ?? 5000;
  state.attempts += 1;
  if (state.attempts > OFFLINE_AFTER || navigator.onLine === false) {
    setConnection('offline', `Offline: the sink does not answer, retrying every ${Math.round(delay / 1000)} s`);
  } else {
    setConnection('reconnecting', 'Reconnecting…');
  }
  clearTimeout(state.retryTimer);
  state.retryTimer = setTimeout(connect, delay);
}

function onStats(stats: Stats, onConnect: boolean): void {
  // On (re)connection, fewer keys than shown here: the store was emptied or replaced while the page was away.
  // (Later stats may trail a catch-up answer by a moment, so only the first one is compared.)
  const { highestKey } = state;
  const lastKey = stats.lastKey;
  const emptied = lastKey === null || (typeof lastKey === 'number' && highestKey !== null && lastKey < highestKey);
  if (onConnect && highestKey !== null && emptied) void reload();
  const count = Number(stats.count);
  ui.storeCount.textContent = Number.isFinite(count) ? count.toLocaleString('en-US') : '?';
  ui.storeCountLabel.textContent = count === 1 ? 'webhook stored' : 'webhooks stored';
  const bytes = Number(stats.bytes);
  const max = Number(stats.maxBytes);
  if (Number.isFinite(bytes) && Number.isFinite(max) && max > 0) {
    const ratio = Math.min(1, bytes / max);
    ui.storeMeter.value = ratio;
    ui.storeMeter.textContent = `${(ratio * 100).toFixed(1)}%`;
    ui.storeFill.textContent = fillText(bytes, max);
  }
}

/** A record that passed the stream's filters (the sink's). */
function onWebhook(envelope: Envelope): void {
  if (!state.loaded) {
    noteKey(envelope.key);
    // The page on its way may have been read before this record was stored: keep it for the merge.
    state.pending.push(envelope);
    if (state.pending.length > MAX_ROWS) state.pending.shift();
    return;
  }
  insert(envelope, true);
  renderFoot();
}
