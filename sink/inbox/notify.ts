/**
 * Desktop notifications: when switched on (the browser asks its permission once), a stream of its own
 * raises one notification per new webhook that passes the notification filter, whatever the list shows.
 * The sink filters on event and live mode; the statuses are a list, read with the forwarder's own parser
 * (UP42_NOTIFY_STATUSES's syntax). The tab title counts the ones not seen yet. The choice and the filter
 * are kept in localStorage.
 */
import { normalizeStatus, parseStatusList } from '../../shared/status.js';
import { ui } from './dom.js';
import { subjectOf, textOf } from './format.js';
import { parseJson } from './sink-api.js';
import { isEnvelope, type Envelope } from './state.js';
import { sinkUrl } from './urls.js';

export interface NotifySettings {
  enabled: boolean;
  /** '' for every event. */
  event: string;
  /** Comma-separated; case, spaces and underscores do not matter. */
  statuses: string;
  liveOnly: boolean;
}

export const DEFAULT_NOTIFY: NotifySettings = {
  enabled: false,
  event: '',
  statuses: 'ERROR, FAILED, FAILED_PERMANENTLY, CANCELLED',
  liveOnly: true,
};

const STORAGE_KEY = 'webhook-inbox.notifications';
const TITLE = 'Webhook inbox';
/** Delay before reopening a stream that failed (the sink restarts, is down or refused it). */
const REOPEN_MS = 2000;

const notify = {
  settings: DEFAULT_NOTIFY,
  source: null as EventSource | null,
  /** The newest key notified: a reopened stream replays what came after it, so none is missed. */
  lastKey: null as number | null,
  reopenTimer: undefined as ReturnType<typeof setTimeout> | undefined,
  unseen: 0,
  /** What a click on a notification does: show that webhook in the page. */
  open: (_key: number) => {},
};

export function loadSettings(): NotifySettings {
  const saved = parseJson(localStorage.getItem(STORAGE_KEY) ?? 'null');
  if (typeof saved !== 'object' || saved === null) return DEFAULT_NOTIFY;
  const s = saved as Partial<Record<keyof NotifySettings, unknown>>;
  return {
    enabled: s.enabled === true,
    event: typeof s.event === 'string' ? s.event : DEFAULT_NOTIFY.event,
    statuses: typeof s.statuses === 'string' ? s.statuses : DEFAULT_NOTIFY.statuses,
    liveOnly: typeof s.liveOnly === 'boolean' ? s.liveOnly : DEFAULT_NOTIFY.liveOnly,
  };
}

function save(): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(notify.settings));
  } catch {
    // Storage full or disabled: the choice lasts until the page is closed.
  }
}

const supported = () => typeof Notification === 'function';

function showState(message?: string): void {
  const on = notify.settings.enabled && supported() && Notification.permission === 'granted';
  ui.notifyToggle.setAttribute('aria-pressed', String(on));
  ui.notifyToggle.textContent = on ? 'Notifications on' : 'Notifications off';
  const statuses = parseStatusList(notify.settings.statuses);
  ui.notifyStatuses.setCustomValidity(statuses.ok ? '' : 'Name at least one status, such as FAILED');
  ui.notifyState.textContent = message ?? (on && !statuses.ok ? 'Name at least one status.' : '');
}

export function setTitle(): void {
  document.title = notify.unseen > 0 ? `(${notify.unseen}) ${TITLE}` : TITLE;
}

/** The user looked at the page: nothing is unseen any more. */
export function markSeen(): void {
  notify.unseen = 0;
  setTitle();
}

/** What the notification stream asks the sink for. */
export function notifyQuery(s: NotifySettings, since: number | null): string {
  const p = new URLSearchParams();
  if (s.event) p.set('event', s.event);
  if (s.liveOnly) p.set('liveMode', 'true');
  if (since !== null) p.set('since', String(since));
  return p.toString();
}

function raise(envelope: Envelope): void {
  const statuses = parseStatusList(notify.settings.statuses);
  if (!statuses.ok || typeof envelope.status !== 'string') return;
  const status = normalizeStatus(envelope.status);
  if (!statuses.value.has(status)) return;
  const mode = envelope.liveMode === true ? 'live' : envelope.liveMode === false ? 'test' : 'mode unknown';
  let n: Notification;
  try {
    n = new Notification(`${textOf(envelope.event)} ${status}`, {
      body: `${subjectOf(envelope)}\n#${envelope.key} · ${mode}`,
      tag: `webhook-${envelope.key}`,
    });
  } catch {
    // Some mobile browsers show notifications only from a service worker, which this page does not have.
    return showState('This browser cannot show notifications from this page.');
  }
  n.addEventListener('click', () => {
    window.focus();
    n.close();
    markSeen();
    notify.open(envelope.key);
  });
  notify.unseen += 1;
  setTitle();
}

function stop(): void {
  clearTimeout(notify.reopenTimer);
  notify.source?.close();
  notify.source = null;
}

function listen(): void {
  stop();
  if (!notify.settings.enabled || !supported() || Notification.permission !== 'granted') return;
  const query = notifyQuery(notify.settings, notify.lastKey);
  const source = new EventSource(sinkUrl(location.origin, '/events', query));
  notify.source = source;
  source.addEventListener('webhook', (e) => {
    const envelope = parseJson(e.data);
    if (!isEnvelope(envelope)) return;
    notify.lastKey = envelope.key;
    raise(envelope);
  });
  // The first stats tell where "new" starts, should the stream be reopened before any webhook came.
  source.addEventListener('stats', (e) => {
    const stats = parseJson(e.data);
    const lastKey = typeof stats === 'object' && stats !== null ? (stats as { lastKey?: unknown }).lastKey : null;
    if (notify.lastKey === null && typeof lastKey === 'number') notify.lastKey = lastKey;
  });
  source.addEventListener('cleared', () => (notify.lastKey = 0));
  source.addEventListener('error', () => {
    // Reopened here rather than by the browser, which gives up after a refusal and, before any webhook came,
    // would not say where to resume: with since=, the sink replays what was stored while the page was away.
    if (source !== notify.source) return;
    source.close();
    notify.reopenTimer = setTimeout(listen, REOPEN_MS);
  });
}

async function toggle(): Promise<void> {
  if (notify.settings.enabled && Notification.permission === 'granted') {
    notify.settings = { ...notify.settings, enabled: false };
    save();
    stop();
    return showState();
  }
  if (!supported()) return showState('This browser has no desktop notifications.');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    return showState('The browser did not allow notifications for this page: allow them in its site settings.');
  }
  notify.settings = { ...notify.settings, enabled: true };
  save();
  notify.lastKey = null;
  listen();
  showState();
}

function readForm(): void {
  notify.settings = {
    ...notify.settings,
    event: ui.notifyEvent.value,
    statuses: ui.notifyStatuses.value,
    liveOnly: ui.notifyLive.checked,
  };
  save();
  showState();
}

/** A changed filter applies to webhooks from now on, not to those that came before. */
function refilter(): void {
  readForm();
  notify.lastKey = null;
  if (notify.source) listen();
}

/** Restores the saved choice and wires the controls; `open` shows a webhook when its notification is clicked. */
export function startNotifications(open: (key: number) => void): void {
  notify.open = open;
  notify.settings = loadSettings();
  ui.notifyEvent.value = notify.settings.event;
  ui.notifyStatuses.value = notify.settings.statuses;
  ui.notifyLive.checked = notify.settings.liveOnly;
  ui.notifyToggle.addEventListener('click', () => void toggle());
  // Typing is kept at once (a reload keeps it); the stream follows when the field is left or Enter pressed.
  ui.notifyForm.addEventListener('input', readForm);
  ui.notifyForm.addEventListener('change', refilter);
  ui.notifyForm.addEventListener('submit', (e) => {
    e.preventDefault();
    refilter();
  });
  showState();
  listen();
}
