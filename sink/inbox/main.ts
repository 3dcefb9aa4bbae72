/**
 * The inbox page's entry point, bundled by esbuild into /inbox.js: wires the controls, reads the filters
 * from the URL and opens the live stream. The data flow is in live.ts, the list in list.ts, notifications
 * in notify.ts.
 */
import { ui } from './dom.js';
import { filtersFromForm, filtersFromUrl, sameFilters, showFilters, writeUrl } from './filters.js';
import { openRow, refreshTimes, renderFoot, toggle } from './list.js';
import { connect, loadOlder, setConnection, startOver } from './live.js';
import { markSeen, startNotifications } from './notify.js';
import { NO_FILTERS, state } from './state.js';

const TYPING_DELAY_MS = 300;

function applyFilters(): void {
  const next = filtersFromForm();
  if (sameFilters(next, state.filters)) return;
  state.filters = next;
  writeUrl(next);
  startOver();
}

/** A clicked notification: that webhook, expanded; with the filters cleared when they hide it. */
function openWebhook(key: number): void {
  if (openRow(key)) return;
  state.openAfterLoad = key;
  if (sameFilters(state.filters, NO_FILTERS)) {
    startOver();
    return;
  }
  showFilters(NO_FILTERS);
  applyFilters();
}

function debounce(fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

const summaryOf = (target: EventTarget | null) => (target instanceof Element ? target.closest('button.summary') : null);

function wireFilters(): void {
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
  window.addEventListener('popstate', () => {
    state.filters = filtersFromUrl();
    showFilters(state.filters);
    startOver();
  });
}

function wireList(): void {
  ui.list.addEventListener('click', (e) => {
    const summary = summaryOf(e.target);
    if (summary) toggle(summary);
  });
  ui.list.addEventListener('keydown', (e) => {
    const summary = summaryOf(e.target);
    if (!summary || e.target !== summary) return;
    const all = [...ui.list.querySelectorAll('button.summary')];
    const i = all.indexOf(summary);
    let to: Element | undefined;
    if (e.key === 'ArrowDown') to = all[i + 1];
    else if (e.key === 'ArrowUp') to = all[i - 1];
    else if (e.key === 'Home') to = all[0];
    else if (e.key === 'End') to = all[all.length - 1];
    else return;
    e.preventDefault();
    if (to instanceof HTMLElement) to.focus();
  });
  ui.older.addEventListener('click', () => void loadOlder());
  setInterval(refreshTimes, 30_000);
}

function wirePage(): void {
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    const typing = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
    if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      ui.q.focus();
    }
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) markSeen();
  });
  window.addEventListener('focus', markSeen);
  window.addEventListener('online', () => connect());
  window.addEventListener('offline', () => setConnection('offline', 'Offline: this device has no network'));
}

function start(): void {
  ui.curlHint.textContent = `curl -N -u USER ${location.origin}/events`;
  state.filters = filtersFromUrl();
  showFilters(state.filters);
  wireFilters();
  wireList();
  wirePage();
  startNotifications(openWebhook);
  renderFoot('Loading…');
  // The first page is fetched when the event stream opens (see live.ts), so no record falls between them.
  connect();
}

start();
