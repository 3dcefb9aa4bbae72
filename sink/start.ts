import type { Server } from 'node:http';
import { formatUrl, listen } from './http/listen.js';
import { isLoopbackHost, type SinkConfig } from '../shared/config.js';
import { createLineWriter } from './line-writer.js';
import { createSinkServer, type SinkServerOptions } from './server.js';
import { openFileStore, type StoreFileOps } from './store/file-store.js';
import { createMemoryStore } from './store/memory-store.js';
import { openPostgresStore } from './store/postgres-store.js';
import type { WebhookStore } from './store/types.js';
import { startHooks } from './hooks/start-hooks.js';

/** Opens the store, starts the server, says where it listens. Used by main.ts and by in-process tests. */
export interface StartOptions {
  /** Access log and startup lines; stdout by default. */
  log?: (line: string) => void;
  /** Warnings and operational errors; stderr by default. */
  warn?: (line: string) => void;
  fileOps?: StoreFileOps;
  server?: Omit<SinkServerOptions, 'onError'>;
}

export interface RunningSink {
  server: Server;
  store: WebhookStore;
  /** http://host:port with the port actually bound. */
  url: string;
  /** Answers requests whose Host names `host` too (the tunnel's, once it is open). */
  allowHost(host: string): void;
  /** Stops accepting, finishes what is in flight, flushes the store. */
  close(): Promise<void>;
}

/** The warning for a sink reachable from other machines with no credentials, or null. Pure. */
export function exposureWarning(config: Pick<SinkConfig, 'host' | 'auth'>): string | null {
  if (isLoopbackHost(config.host) || config.auth !== null) return null;
  return (
    `WARNING: the sink listens on ${config.host}, which other machines can reach, and no basic auth is set: ` +
    'anyone who reaches the port can read and delete the stored webhooks. ' +
    'Set SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS, or SINK_HOST=127.0.0.1.'
  );
}

/** Whether the sink asks for a password, said first: with none, whoever reaches the port reads everything. Pure. */
export function authLine(config: Pick<SinkConfig, 'auth'>, port: number): string {
  if (config.auth !== null) return `basic auth on (user ${config.auth.user})`;
  return (
    `basic auth OFF: anyone who reaches port ${port} can read every webhook ` +
    '(set SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS in .env to require a password)'
  );
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 2 : 0)} MiB`;

export async function startSink(config: SinkConfig, options: StartOptions = {}): Promise<RunningSink> {
  const writer = options.log ? null : createLineWriter();
  const log = options.log ?? writer!;
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const store =
    config.store === 'postgres'
      ? await openPostgresStore({
          url: config.databaseUrl ?? '',
          maxBytes: config.maxBytes,
          warn: (m) => warn(`sink: ${m}`),
        })
      : config.store === 'memory'
        ? createMemoryStore({ maxBytes: config.maxBytes })
        : await openFileStore({
            dataDir: config.dataDir,
            maxBytes: config.maxBytes,
            fileOps: options.fileOps,
          });

  let hooks: Awaited<ReturnType<typeof startHooks>> = null;
  try {
    hooks = await startHooks(config, store, log, warn);
  } catch (err) {
    await store.close();
    throw err;
  }
  const http = createSinkServer(config, store, log, {
    ...options.server,
    onError: (m) => warn(`sink: ${m}`),
    hookStatus: () => hooks?.status() ?? null,
  });
  const { server } = http;
  let port: number;
  try {
    port = await listen(server, config.port, config.host);
  } catch (err) {
    await hooks?.stop();
    await store.close();
    throw err;
  }
  const url = formatUrl(config.host, port);

  log(`listening on ${url}`);
  log(authLine(config, port));
  if (store.kind === 'file') log(`data in ${store.location}`);
  else if (store.kind === 'postgres')
    log(`webhooks in PostgreSQL at ${store.location}, shared with every sink using it`);
  else log('memory store: nothing is written to disk, everything is gone when the sink stops');
  const noun = store.count === 1 ? 'webhook' : 'webhooks';
  log(`${store.count} ${noun} stored (${mib(store.bytes)} of ${mib(store.maxBytes)})`);
  if (store.kind === 'file' && 'repair' in store && store.repair) {
    const r = store.repair as { droppedBytes: number; strandedRecords: number; savedTo: string | null };
    if (r.savedTo === null)
      log(`repaired the data file: cut ${r.droppedBytes} bytes of an incomplete last record (never acknowledged)`);
    else
      warn(
        `WARNING: the data file was damaged before its end; ${r.strandedRecords} intact records ` +
          'after the damage could not be kept in sequence and were saved with the rest of the cut bytes ' +
          `to ${r.savedTo}`,
      );
  }
  const exposure = exposureWarning(config);
  if (exposure) warn(exposure);
  writer?.flush();

  let closing: Promise<void> | null = null;
  return {
    server,
    store,
    url,
    allowHost: http.allowHost,
    close() {
      closing ??= (async () => {
        await http.close();
        await hooks?.stop();
        await store.close();
        writer?.flush();
      })();
      return closing;
    },
  };
}
