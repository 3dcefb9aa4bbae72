import { recordMatches, type EventsFilter } from './dump-query.js';
import { envelopeLine } from './envelope.js';
import type { StoredRecord, WebhookStore } from './store/types.js';
import { writeChunk, writeHead, type Exchange } from './respond.js';

/**
 * GET /events: Server-Sent Events for the inbox page. On connect a `stats` event; with Last-Event-ID (or
 * ?since=) first the records after it; then after each durable append `id: K` + `event: webhook` + the
 * envelope, and a fresh `stats`; after a clear, `cleared`. Comments keep idle connections alive. A client
 * that stops reading is dropped (it reconnects with Last-Event-ID) rather than buffered without bound.
 * Each stream has the dump's filters: the backlog and the live records both pass them; stats go to all.
 */
export interface LiveEvents {
  attach(ex: Exchange, since: number | null, filter?: EventsFilter): Promise<void>;
  /** Ends every stream, for shutdown. */
  closeAll(): void;
  readonly clients: number;
}

interface Client {
  ex: Exchange;
  filter: EventsFilter;
  /** While the backlog is sent, live messages wait here. */
  pending: { key: number; text: string }[] | null;
}

/** One live message, formatted once for every stream whose filter it passes. */
interface Broadcast {
  key: number;
  record: StoredRecord | null;
  /** Sent to every stream: the stats, or `cleared` then the stats. */
  always: string;
}

const MAX_BUFFERED = 4 * 1024 * 1024;

export function statsJson(store: WebhookStore): string {
  return `{"count":${store.count},"bytes":${store.bytes},"maxBytes":${store.maxBytes},"lastKey":${store.lastKey}}`;
}

const webhookEvent = (record: StoredRecord) =>
  `id: ${record.key}\nevent: webhook\ndata: ${envelopeLine(record).toString('utf8')}\n\n`;
const statsEvent = (store: WebhookStore) => `event: stats\ndata: ${statsJson(store)}\n\n`;
const CLEARED = 'event: cleared\ndata: {}\n\n';

export function createLiveEvents(store: WebhookStore, keepAliveMs: number): LiveEvents {
  const clients = new Set<Client>();
  let unsubscribe: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;

  const deliver = (client: Client, text: string) => {
    const { res } = client.ex;
    if (res.destroyed) return;
    if (res.writableLength > MAX_BUFFERED) {
      res.destroy();
      return;
    }
    client.ex.bodyBytes += Buffer.byteLength(text);
    res.write(text);
  };

  const broadcast = ({ key, record, always }: Broadcast) => {
    let withRecord: string | null = null;
    for (const c of clients) {
      let text = always;
      if (record !== null && recordMatches(record, c.filter)) text = withRecord ??= webhookEvent(record) + always;
      if (c.pending !== null) c.pending.push({ key, text });
      else deliver(c, text);
    }
  };

  const start = () => {
    unsubscribe = store.subscribe(
      (record) => broadcast({ key: record.key, record, always: statsEvent(store) }),
      () => broadcast({ key: 0, record: null, always: CLEARED + statsEvent(store) }),
    );
    timer = setInterval(() => {
      for (const c of clients) if (c.pending === null) deliver(c, ': keep-alive\n\n');
    }, keepAliveMs);
    timer.unref();
  };

  const stop = () => {
    unsubscribe?.();
    unsubscribe = null;
    if (timer) clearInterval(timer);
    timer = null;
  };

  const remove = (client: Client) => {
    clients.delete(client);
    if (clients.size === 0) stop();
  };

  return {
    get clients() {
      return clients.size;
    },
    async attach(ex, since, filter = {}) {
      const { res } = ex;
      writeHead(ex, 200, [
        'Content-Type',
        'text/event-stream; charset=utf-8',
        'Cache-Control',
        'no-cache',
        'Connection',
        'keep-alive',
      ]);
      const client: Client = { ex, filter, pending: since === null ? null : [] };
      if (clients.size === 0) start();
      clients.add(client);
      res.on('close', () => remove(client));
      // The sink lets clients half-close after a request; a stream's client sends nothing more, so its FIN
      // means it is gone. Without this its place (see SINK_MAX_EVENT_STREAMS) stays taken until a write fails.
      ex.req.socket.once('end', () => res.destroy());
      ex.bodyBytes += Buffer.byteLength('retry: 2000\n\n');
      res.write('retry: 2000\n\n');
      deliver({ ex, filter, pending: null }, statsEvent(store));
      if (since === null) return;
      let last = since;
      try {
        for await (const record of store.records({ ...filter, since }, { transient: true })) {
          if (!(await writeChunk(ex, Buffer.from(webhookEvent(record))))) return;
          last = record.key;
        }
      } catch {
        res.destroy();
        return;
      }
      // Live messages that arrived during the backlog: skip what the backlog already carried. A clear
      // (key 0) starts the numbering again.
      const waiting = client.pending ?? [];
      client.pending = null;
      for (const m of waiting) {
        if (m.key === 0) last = 0;
        else if (m.key <= last) continue;
        else last = m.key;
        deliver(client, m.text);
      }
    },
    closeAll() {
      for (const c of [...clients]) {
        const { res } = c.ex;
        res.end(() => res.socket?.destroy());
        remove(c);
      }
    },
  };
}
