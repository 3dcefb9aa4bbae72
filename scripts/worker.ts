import { resolve } from 'node:path';
import { Miniflare } from 'miniflare';
import {
  parseWorkerConfig,
  parseWorkerLocalConfig,
  type WorkerConfig,
  type WorkerLocalConfig,
} from '../shared/config.js';
import { startConfig, startError } from '../sink/env-shell.js';
import { WORKER_DIST } from './build-worker.js';
import { miniflareOptions, wakeOutbox, workerBindings } from '../forwarder/worker/miniflare.js';

/**
 * `npm run worker`: the Worker (built by its preworker) in workerd on 127.0.0.1:WORKER_PORT, its settings from
 * the environment and .env, its outbox kept under WORKER_DATA_DIR so a restart keeps what waits.
 * Exit codes, as the other parts: 2 configuration error (of this command or of the Worker's own settings, all
 * listed: locally nothing is gained by starting a Worker that answers every delivery 500), 1 could not start.
 */
const [local] = startConfig<[WorkerLocalConfig, WorkerConfig]>('worker: ', parseWorkerLocalConfig, parseWorkerConfig);

const dataDir = resolve(local.dataDir);
const mf = new Miniflare(
  miniflareOptions({
    scriptPath: resolve(WORKER_DIST, 'worker.mjs'),
    bindings: workerBindings(process.env),
    persistDir: dataDir,
    port: local.port,
    // The outbox's line per delivery (kept, delivered, parked with its cause), as the Worker prints it.
    onLine: (line) => console.log(line),
  }),
);
const url = await mf.ready.catch((err: unknown) => {
  console.error(`worker: cannot start: ${startError(err, 'WORKER_PORT', local.port)}`);
  process.exit(1);
});

// Deliveries kept before a restart go on at once, not only when the next one arrives.
const waiting = await wakeOutbox(mf);

console.log(`listening on ${url.origin} (outbox in ${dataDir}${waiting ? ', deliveries waiting' : ''})`);

const stop = () => {
  mf.dispose().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
