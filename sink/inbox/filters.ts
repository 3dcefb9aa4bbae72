/** The list's filters: read from the URL (the bookmark) and the form, and sent to the sink as its query. */
import { ensureEventOption, ui } from './dom.js';
import type { Filters } from './state.js';

const liveModeOf = (v: string | null): Filters['liveMode'] => (v === 'true' || v === 'false' ? v : '');

export function filtersFromUrl(): Filters {
  const p = new URLSearchParams(location.search);
  return {
    event: p.get('event') ?? '',
    status: p.get('status') ?? '',
    liveMode: liveModeOf(p.get('liveMode')),
    q: p.get('q') ?? '',
  };
}

export function filtersFromForm(): Filters {
  return { event: ui.event.value, status: ui.status.value.trim(), liveMode: liveModeOf(ui.mode.value), q: ui.q.value };
}

export function showFilters(f: Filters): void {
  ensureEventOption(ui.event, f.event);
  ui.event.value = f.event;
  ui.status.value = f.status;
  ui.mode.value = f.liveMode;
  ui.q.value = f.q;
}

export const hasFilters = (f: Filters): boolean => Boolean(f.event || f.status || f.liveMode || f.q);

export const sameFilters = (a: Filters, b: Filters): boolean =>
  a.event === b.event && a.status === b.status && a.liveMode === b.liveMode && a.q === b.q;

/** The filters as the query both the dump and the event stream take; the sink normalises the status. */
export function filterParams(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.event) p.set('event', f.event);
  if (f.status) p.set('status', f.status);
  if (f.liveMode) p.set('liveMode', f.liveMode);
  if (f.q) p.set('q', f.q);
  return p;
}

export function writeUrl(f: Filters): void {
  const query = filterParams(f).toString();
  history.replaceState(null, '', query ? `${location.pathname}?${query}` : location.pathname);
}
