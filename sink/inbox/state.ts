/** The page's data shapes and its one mutable state, shared by its modules. */

/** The list's filters, as the form and the URL hold them; the sink parses and normalises them. */
export interface Filters {
  event: string;
  status: string;
  liveMode: '' | 'true' | 'false';
  q: string;
}

/** A stored webhook as the dump's envelope and the `webhook` event carry it. Every field is untrusted. */
export interface Envelope {
  key: number;
  receivedAt?: unknown;
  messageId?: unknown;
  event?: unknown;
  status?: unknown;
  liveMode?: unknown;
  /** true when the sink verified UP42's signature itself; null when it did not (no secret set, say). */
  verified?: unknown;
  /** The headers the verified signature covers. */
  signed?: unknown;
  body?: unknown;
}

export interface Stats {
  count?: unknown;
  bytes?: unknown;
  maxBytes?: unknown;
  lastKey?: unknown;
}

export const isEnvelope = (v: unknown): v is Envelope =>
  typeof v === 'object' && v !== null && typeof (v as { key?: unknown }).key === 'number';

export const NO_FILTERS: Filters = { event: '', status: '', liveMode: '', q: '' };

export const state = {
  filters: NO_FILTERS,
  /** key → row element, for deduplication. */
  rows: new Map<number, HTMLLIElement>(),
  /** Bumped whenever the list is rebuilt, so answers to older requests are dropped. */
  generation: 0,
  inflight: null as AbortController | null,
  /** The first page for the current filters has arrived. */
  loaded: false,
  /** Live records that arrive while the first page is on its way; merged into it when it lands. */
  pending: [] as Envelope[],
  hasOlder: false,
  loadingOlder: false,
  /** The newest key shown for the current filters: catch-up after a reconnection starts after it. */
  highestKey: null as number | null,
  source: null as EventSource | null,
  attempts: 0,
  retryTimer: undefined as ReturnType<typeof setTimeout> | undefined,
  /** A webhook to open once the list for the current filters has loaded (a clicked notification). */
  openAfterLoad: null as number | null,
};
