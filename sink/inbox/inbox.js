// The inbox page's behaviour: plain browser JavaScript, loaded by index.html, no build step.
//
// Data flow: the list is a page of the sink's dump (newest first, server-side filters), kept current by
// the sink's Server-Sent Events. On every (re)connection the page asks the dump for what came after the
// newest key it has seen, so nothing stored while it was away is missed; rows are deduplicated by key.
//
// Every webhook field is untrusted input: it reaches the DOM only through textContent and attribute
// setters, never as HTML. The sink's Content-Security-Policy forbids inline code and style as well.
(() => {
  'use strict';

  /** Rows fetched per page of the dump ("Load older" fetches the next one). */
  const PAGE_SIZE = 100;
  /** The list never holds more rows than this: older ones are dropped and can be loaded again. */
  const MAX_ROWS = 500;
  /** Delays between reconnection attempts, in ms; the last one repeats. */
  const BACKOFF_MS = [500, 1000, 2000, 4000, 5000];
  /** After this many failed attempts in a row the sink is reported offline rather than reconnecting. */
  const OFFLINE_AFTER = 4;
  const TYPING_DELAY_MS = 300;

  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const ui = {
    connection: $('connection'),
    connectionText: $('connection-text'),
    storeCount: $('store-count'),
    storeCountLabel: $('store-count-label'),
    storeMeter: /** @type {HTMLMeterElement} */ ($('store-meter')),
    storeFill: $('store-fill'),
    form: /** @type {HTMLFormElement} */ ($('filters')),
    event: /** @type {HTMLSelectElement} */ ($('f-event')),
    status: /** @type {HTMLInputElement} */ ($('f-status')),
    mode: /** @type {HTMLSelectElement} */ ($('f-mode')),
    q: /** @type {HTMLInputElement} */ ($('f-q')),
    list: $('list'),
    empty: $('empty'),
    shown: $('shown'),
    older: /** @type {HTMLButtonElement} */ ($('older')),
    curlHint: $('curl-hint'),
  };

  const state = {
    filters: { event: '', status: '', liveMode: '', q: '' },
    /** key (as string) → row element, for deduplication. */
    rows: new Map(),
    /** Bumped whenever the list is rebuilt, so answers to older requests are dropped. */
    generation: 0,
    /** @type {AbortController | null} */
    inflight: null,
    /** The first page for the current filters has arrived. */
    loaded: false,
    /** Live records that arrive while the first page is on its way; merged into it when it lands. */
    pending: [],
    hasOlder: false,
    loadingOlder: false,
    /** The newest key seen from any source, whatever the filters: catch-up starts after it. */
    highestKey: /** @type {number | string | null} */ (null),
    /** @type {EventSource | null} */
    source: null,
    attempts: 0,
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    retryTimer: undefined,
    unseen: 0,
  };

  // ---- pure helpers -------------------------------------------------------------------------------

  /** Same canonical form as the sink: upper case, runs of spaces/underscores as one underscore. */
  const normalizeStatus = (s) => String(s).trim().toUpperCase().replace(/[\s_]+/g, '_');

  /** Keys are consecutive integers; compare them as numbers when they are, as text otherwise. */
  function compareKeys(a, b) {
    const na = Number(a);
    const nb = Number(b);
    if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
    return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  }

  /** The colour family of a status. */
  function statusTone(status) {
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

  /** The stored webhook as an object, whether the envelope carries it parsed or as text. */
  function bodyOf(envelope) {
    if (typeof envelope.body !== 'string') return envelope.body;
    try {
      return JSON.parse(envelope.body);
    } catch {
      return envelope.body;
    }
  }

  function prettyJson(value) {
    if (typeof value === 'string') return value;
    try {
      return JSON.stringify(value, null, 2);
    } catch {
      return String(value);
    }
  }

  /** The client-side twin of the dump's filters, for records arriving live. */
  function matches(envelope, filters) {
    if (filters.event && envelope.event !== filters.event) return false;
    if (filters.status && (envelope.status == null || normalizeStatus(envelope.status) !== normalizeStatus(filters.status))) return false;
    if (filters.liveMode && String(envelope.liveMode) !== filters.liveMode) return false;
    if (filters.q) {
      const text = envelope.rawBody ?? (typeof envelope.body === 'string' ? envelope.body : JSON.stringify(envelope.body));
      if (!String(text).toLowerCase().includes(filters.q.toLowerCase())) return false;
    }
    return true;
  }

  const hasFilters = (f) => Boolean(f.event || f.status || f.liveMode || f.q);

  function formatBytes(n) {
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

  function relativeTime(then, now) {
    const s = Math.round((now - then) / 1000);
    if (!Number.isFinite(s)) return '';
    if (s < 5) return 'just now';
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    return `${Math.floor(s / 86400)} d ago`;
  }

  const pad = (n) => String(n).padStart(2, '0');
  function absoluteTime(d, now) {
    const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    const sameDay = d.toDateString() === now.toDateString();
    return sameDay ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
  }

  /** Splits pretty JSON into highlighted spans: text nodes only, so nothing in it is ever parsed as HTML. */
  function highlightJson(text, into) {
    const token = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
    let last = 0;
    for (let m = token.exec(text); m !== null; m = token.exec(text)) {
      if (m.index > last) into.append(text.slice(last, m.index));
      const span = document.createElement('span');
      span.className = m[1] ? (m[2] ? 'j-key' : 'j-str') : m[3] ? 'j-lit' : 'j-num';
      span.textContent = m[1] ?? m[0];
      into.append(span);
      if (m[2]) into.append(m[2]);
      last = token.lastIndex;
    }
    if (last < text.length) into.append(text.slice(last));
  }

  // ---- filters and the URL ------------------------------------------------------------------------

  function filtersFromUrl() {
    const p = new URLSearchParams(location.search);
    const liveMode = p.get('liveMode') ?? '';
    return {
      event: p.get('event') ?? '',
      status: p.get('status') ?? '',
      liveMode: liveMode === 'true' || liveMode === 'false' ? liveMode : '',
      q: p.get('q') ?? '',
    };
  }

  function filtersFromForm() {
    return { event: ui.event.value, status: ui.status.value.trim(), liveMode: ui.mode.value, q: ui.q.value };
  }

  function ensureEventOption(event) {
    if (typeof event !== 'string' || event === '') return;
    if ([...ui.event.options].some((o) => o.value === event)) return;
    const option = document.createElement('option');
    option.value = event;
    option.textContent = event;
    ui.event.append(option);
  }

  function showFilters(f) {
    ensureEventOption(f.event);
    ui.event.value = f.event;
    ui.status.value = f.status;
    ui.mode.value = f.liveMode;
    ui.q.value = f.q;
  }

  /** The filters as query parameters, in the names the dump understands. */
  function filterParams(f) {
    const p = new URLSearchParams();
    if (f.event) p.set('event', f.event);
    if (f.status) p.set('status', normalizeStatus(f.status));
    if (f.liveMode) p.set('liveMode', f.liveMode);
    if (f.q) p.set('q', f.q);
    return p;
  }

  function writeUrl(f) {
    const p = filterParams(f);
    if (f.status) p.set('status', f.status);
    const query = p.toString();
    history.replaceState(null, '', query ? `${location.pathname}?${query}` : location.pathname);
  }

  function applyFilters() {
    const next = filtersFromForm();
    const f = state.filters;
    if (next.event === f.event && next.status === f.status && next.liveMode === f.liveMode && next.q === f.q) return;
    state.filters = next;
    writeUrl(next);
    reload();
  }

  // ---- talking to the sink ------------------------------------------------------------------------

  /** Reads the dump's JSON lines; the closing count line is not a record. */
  async function fetchDump(params, signal) {
    params.set('envelope', '1');
    const res = await fetch(`/dump-webhooks?${params}`, { signal, headers: { accept: 'application/x-ndjson' } });
    if (!res.ok) throw new Error(`the sink answered ${res.status}`);
    const text = await res.text();
    const records = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let item;
      try {
        item = JSON.parse(line);
      } catch {
        continue;
      }
      if (item !== null && typeof item === 'object' && 'key' in item) records.push(item);
    }
    return records;
  }

  function newRequest() {
    state.inflight?.abort();
    state.inflight = new AbortController();
    return { generation: state.generation, signal: state.inflight.signal };
  }

  /** Rebuilds the list from the newest page matching the filters. */
  async function reload() {
    state.generation += 1;
    state.loaded = false;
    state.pending = [];
    state.hasOlder = false;
    state.loadingOlder = false;
    state.rows.clear();
    ui.list.replaceChildren();
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
      for (const r of state.pending) if (matches(r, state.filters)) insert(r, true);
      state.pending = [];
      renderFoot();
    } catch (err) {
      if (generation !== state.generation || signal.aborted) return;
      renderFoot(`Could not load the webhooks (${err.message}); retrying when the sink is back.`);
    }
  }

  /** Fetches what was stored after the newest key seen: the gap left by a reconnection. */
  async function catchUp() {
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
      renderFoot(`Could not catch up (${err.message}).`);
    }
  }

  async function loadOlder() {
    const last = ui.list.lastElementChild;
    if (!state.hasOlder || state.loadingOlder || !last) return;
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
      if (generation === state.generation) renderFoot(`Could not load older webhooks (${err.message}).`);
    } finally {
      if (generation === state.generation) state.loadingOlder = false;
      ui.older.disabled = false;
    }
  }

  function noteKey(key) {
    if (key === null || key === undefined) return;
    if (state.highestKey === null || compareKeys(key, state.highestKey) > 0) state.highestKey = key;
  }

  // ---- Server-Sent Events and reconnection ------------------------------------------------------

  function setConnection(kind, text) {
    ui.connection.dataset.state = kind;
    if (ui.connectionText.textContent !== text) ui.connectionText.textContent = text;
  }

  function connect() {
    clearTimeout(state.retryTimer);
    state.source?.close();
    const source = new EventSource('/events');
    state.source = source;
    source.addEventListener('open', () => {
      state.attempts = 0;
      setConnection('connected', 'Live');
      void catchUp();
    });
    let first = true;
    source.addEventListener('stats', (e) => {
      const stats = parseData(e);
      if (stats) onStats(stats, first);
      first = false;
    });
    source.addEventListener('webhook', (e) => {
      const envelope = parseData(e);
      if (envelope && typeof envelope === 'object' && 'key' in envelope) onWebhook(withRawBody(envelope, e.data));
    });
    source.addEventListener('cleared', () => {
      state.highestKey = null;
      void reload();
    });
    source.addEventListener('error', () => {
      if (source !== state.source) return;
      // EventSource retries by itself only after some failures, at its own pace; one policy for all.
      source.close();
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
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

  /**
   * Keeps the body's text as the sink sent it: the sink's search matches those bytes, and the object parsed
   * from them re-serialises differently (spacing, escapes such as \u00e9, number forms), so a live record
   * would pass or fail the search unlike the same record on a reload. (A body received on several lines
   * arrives without the whitespace between its tokens, so a search that spans such whitespace can still
   * differ.) In the event's line the metadata comes first and `,"body":` cannot occur inside its JSON
   * strings (their quotes are escaped).
   */
  function withRawBody(envelope, data) {
    const at = data.indexOf(',"body":');
    if (at !== -1 && data.endsWith('}')) envelope.rawBody = data.slice(at + ',"body":'.length, -1);
    return envelope;
  }

  function parseData(e) {
    try {
      return JSON.parse(e.data);
    } catch {
      return null;
    }
  }

  function onStats(stats, onConnect) {
    // On (re)connection, fewer keys than seen here: the store was emptied or replaced while the page was away.
    // (Later stats may trail a catch-up answer by a moment, so only the first one is compared.)
    const lastKey = stats.lastKey;
    if (onConnect && state.highestKey !== null && lastKey !== undefined && (lastKey === null || compareKeys(lastKey, state.highestKey) < 0)) {
      state.highestKey = null;
      void reload();
    }
    const count = Number(stats.count);
    ui.storeCount.textContent = Number.isFinite(count) ? count.toLocaleString('en-US') : '?';
    ui.storeCountLabel.textContent = count === 1 ? 'webhook stored' : 'webhooks stored';
    const bytes = Number(stats.bytes);
    const max = Number(stats.maxBytes);
    if (Number.isFinite(bytes) && Number.isFinite(max) && max > 0) {
      const ratio = Math.min(1, bytes / max);
      const pct = ratio * 100;
      ui.storeMeter.value = ratio;
      ui.storeMeter.textContent = `${pct.toFixed(1)}%`;
      const shown = pct > 0 && pct < 0.1 ? '< 0.1' : pct < 10 ? pct.toFixed(1) : String(Math.round(pct));
      ui.storeFill.textContent = `${formatBytes(bytes)} of ${formatBytes(max)} (${shown}% full)`;
    }
  }

  function onWebhook(envelope) {
    noteKey(envelope.key);
    if (!state.loaded) {
      // The page on its way may have been read before this record was stored: keep it for the merge.
      state.pending.push(envelope);
      if (state.pending.length > MAX_ROWS) state.pending.shift();
      return;
    }
    if (!matches(envelope, state.filters)) return;
    if (insert(envelope, true) && document.hidden) {
      state.unseen += 1;
      document.title = `(${state.unseen}) Webhook inbox`;
    }
    renderFoot();
  }

  // ---- the list -------------------------------------------------------------------------------------

  /** Adds a record at its place (keys descending); returns false for one already shown. */
  function insert(envelope, fresh) {
    const id = String(envelope.key);
    noteKey(envelope.key);
    ensureEventOption(envelope.event);
    if (state.rows.has(id)) return false;
    const row = renderRow(envelope, fresh);
    let before = ui.list.firstElementChild;
    while (before && compareKeys(before.dataset.key, envelope.key) > 0) before = before.nextElementSibling;
    ui.list.insertBefore(row, before);
    state.rows.set(id, row);
    while (state.rows.size > MAX_ROWS) {
      const last = ui.list.lastElementChild;
      if (!last) break;
      state.rows.delete(last.dataset.key);
      last.remove();
      state.hasOlder = true;
    }
    return true;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderRow(envelope, fresh) {
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
    const received = new Date(envelope.receivedAt);
    if (!Number.isNaN(received.getTime())) {
      time.dateTime = received.toISOString();
      time.title = received.toLocaleString();
      fillTime(time, new Date());
    } else {
      time.textContent = '–';
    }
    summary.append(time);

    summary.append(el('span', 'event', envelope.event == null ? '–' : String(envelope.event)));

    const status = envelope.status == null ? '' : String(envelope.status);
    summary.append(el('span', `status tone-${statusTone(status)}`, status || '–'));

    const live = envelope.liveMode;
    summary.append(el('span', `mode mode-${live === true ? 'live' : live === false ? 'test' : 'unknown'}`, live === true ? 'live' : live === false ? 'test' : '?'));

    summary.append(el('span', 'msgid', envelope.messageId == null ? '–' : String(envelope.messageId)));

    const detail = el('div', 'detail');
    detail.id = `detail-${key}`;
    detail.hidden = true;
    // The pretty JSON is built on first expansion only: most rows are never opened.
    detailBodies.set(detail, envelope);

    row.append(summary, detail);
    return row;
  }

  const detailBodies = new WeakMap();

  function fillTime(time, now) {
    const d = new Date(time.dateTime);
    const rel = el('span', 'rel', relativeTime(d.getTime(), now.getTime()));
    const abs = el('span', 'abs', absoluteTime(d, now));
    time.replaceChildren(rel, abs);
  }

  function buildDetail(detail) {
    const envelope = detailBodies.get(detail);
    if (!envelope) return;
    detailBodies.delete(detail);
    const text = prettyJson(bodyOf(envelope));
    const bar = el('div', 'detail-bar');
    const copy = el('button', 'copy secondary', 'Copy JSON');
    copy.type = 'button';
    const note = el('span', 'copied');
    note.setAttribute('aria-live', 'polite');
    copy.addEventListener('click', async () => {
      const done = await copyText(text);
      note.textContent = done ? 'Copied' : 'Copy failed: select the text instead';
      setTimeout(() => (note.textContent = ''), 2000);
    });
    const received = el('span', 'received', `received ${envelope.receivedAt ?? ''}`);
    bar.append(copy, note, received);
    const pre = el('pre', 'json');
    const code = el('code');
    highlightJson(text, code);
    pre.append(code);
    pre.tabIndex = 0;
    detail.append(bar, pre);
  }

  async function copyText(text) {
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
      let done = false;
      try {
        done = document.execCommand('copy');
      } catch {
        done = false;
      }
      area.remove();
      return done;
    }
  }

  function toggle(summary) {
    const detail = summary.nextElementSibling;
    if (!(detail instanceof HTMLElement)) return;
    const open = summary.getAttribute('aria-expanded') !== 'true';
    if (open) buildDetail(detail);
    detail.hidden = !open;
    summary.setAttribute('aria-expanded', String(open));
    summary.parentElement?.classList.toggle('open', open);
  }

  function renderFoot(message) {
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
    ui.shown.textContent = `${n.toLocaleString('en-US')} ${what}${which} shown${state.hasOlder ? ', older ones below' : ''}`;
  }

  function refreshTimes() {
    const now = new Date();
    for (const time of ui.list.querySelectorAll('time.time')) {
      if (time instanceof HTMLTimeElement && time.dateTime) fillTime(time, now);
    }
  }

  // ---- wiring ------------------------------------------------------------------------------------------

  function debounce(fn, ms) {
    let timer;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function wire() {
    const typed = debounce(applyFilters, TYPING_DELAY_MS);
    ui.event.addEventListener('change', applyFilters);
    ui.mode.addEventListener('change', applyFilters);
    ui.status.addEventListener('input', typed);
    ui.status.addEventListener('change', applyFilters);
    ui.q.addEventListener('input', typed);
    ui.form.addEventListener('submit', (e) => {
      e.preventDefault();
      applyFilters();
    });
    // The form's reset clears the fields after this event: read them on the next turn.
    ui.form.addEventListener('reset', () => setTimeout(applyFilters, 0));

    ui.list.addEventListener('click', (e) => {
      const summary = e.target instanceof Element ? e.target.closest('button.summary') : null;
      if (summary) toggle(summary);
    });
    ui.list.addEventListener('keydown', (e) => {
      const summary = e.target instanceof Element ? e.target.closest('button.summary') : null;
      if (!summary || e.target !== summary) return;
      const all = [...ui.list.querySelectorAll('button.summary')];
      const i = all.indexOf(summary);
      let to;
      if (e.key === 'ArrowDown') to = all[i + 1];
      else if (e.key === 'ArrowUp') to = all[i - 1];
      else if (e.key === 'Home') to = all[0];
      else if (e.key === 'End') to = all[all.length - 1];
      else return;
      e.preventDefault();
      if (to instanceof HTMLElement) to.focus();
    });
    ui.older.addEventListener('click', () => void loadOlder());

    document.addEventListener('keydown', (e) => {
      const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement;
      if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        ui.q.focus();
      }
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) {
        state.unseen = 0;
        document.title = 'Webhook inbox';
      }
    });
    window.addEventListener('online', () => connect());
    window.addEventListener('offline', () => setConnection('offline', 'Offline: this device has no network'));
    window.addEventListener('popstate', () => {
      state.filters = filtersFromUrl();
      showFilters(state.filters);
      void reload();
    });
    setInterval(refreshTimes, 30_000);
  }

  function start() {
    ui.curlHint.textContent = `curl -N -u USER ${location.origin}/events`;
    state.filters = filtersFromUrl();
    showFilters(state.filters);
    wire();
    renderFoot('Loading…');
    // The first page is fetched when the event stream opens (see catchUp), so no record falls between them.
    connect();
  }

  start();
})();
