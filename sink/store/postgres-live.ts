import type pg from 'pg';
import { connectClient, errorText } from './postgres-connection.js';
import { NOTIFY_CHANNEL } from './postgres-schema.js';

/**
 * The store's LISTEN connection: how a sink hears of appends and clears made by every sink sharing the
 * database. It is also the sink's watch on the database: when it drops, the store reports itself
 * unavailable (requests get 503) and reconnects by itself, with a growing pause, until the server is back.
 */
export interface LiveHandlers {
  notification(payload: string): void;
  /** The connection dropped: notifications may be missed until `restored`. */
  lost(message: string): void;
  /** Listening again: whatever happened meanwhile must be read from the tables. */
  restored(): void;
}

export interface LiveConnection {
  /** Why the database is out of reach, or null while listening. */
  readonly down: string | null;
  close(): Promise<void>;
}

const FIRST_PAUSE_MS = 100;
const LONGEST_PAUSE_MS = 2_000;

export async function openLiveConnection(url: string, handlers: LiveHandlers): Promise<LiveConnection> {
  let client: pg.Client | null = null;
  let down: string | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let pause = FIRST_PAUSE_MS;

  const drop = (reason: string) => {
    const old = client;
    client = null;
    if (old !== null) void old.end().catch(() => undefined);
    if (closed) return;
    if (down === null) {
      down = reason;
      handlers.lost(reason);
    }
    if (timer === null) timer = setTimeout(reconnect, pause).unref();
    pause = Math.min(LONGEST_PAUSE_MS, pause * 2);
  };

  const listen = async (): Promise<void> => {
    let current: pg.Client | null = null;
    const lostIt = (err: Error | null) => {
      if (client !== current || current === null) return;
      drop(`the database connection was lost: ${err ? errorText(err) : 'closed'}`);
    };
    current = await connectClient(url, (err) => lostIt(err));
    current.on('end', () => lostIt(null));
    current.on('notification', (msg) => {
      if (msg.channel === NOTIFY_CHANNEL && msg.payload !== undefined) handlers.notification(msg.payload);
    });
    try {
      await current.query(`LISTEN ${NOTIFY_CHANNEL}`);
    } catch (err) {
      await current.end().catch(() => undefined);
      throw err;
    }
    if (closed) {
      await current.end().catch(() => undefined);
      return;
    }
    client = current;
  };

  const reconnect = () => {
    timer = null;
    if (closed) return;
    listen().then(
      () => {
        if (closed || client === null) return;
        down = null;
        pause = FIRST_PAUSE_MS;
        handlers.restored();
      },
      (err: unknown) => {
        if (!closed && timer === null) timer = setTimeout(reconnect, pause).unref();
        pause = Math.min(LONGEST_PAUSE_MS, pause * 2);
        down = `the database is unreachable: ${errorText(err)}`;
      },
    );
  };

  await listen();
  return {
    get down() {
      return down;
    },
    async close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      const old = client;
      client = null;
      await old?.end().catch(() => undefined);
    },
  };
}
