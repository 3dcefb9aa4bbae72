import { afterAll, afterEach, beforeAll, beforeEach } from '@jest/globals';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { openFileStore } from '../../sink/store/file-store.js';
import { createMemoryStore } from '../../sink/store/memory-store.js';
import { openPostgresStore } from '../../sink/store/postgres-store.js';
import { startPostgres, type PostgresServer } from '../../bench/postgres-server.js';
import { tempDir } from './sink-support.js';
import { describeStoreContract, type OpenStore, type SizeOf } from './store-contract.js';

// Every store keeps the same contract: one suite, run against each. A store joins with one entry here.

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.remove();
});

// PostgreSQL: a throwaway server of the test's own, a new database per store.
let postgres: PostgresServer;
let databases = 0;
beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

const stores: [name: string, open: OpenStore, sizeOf?: SizeOf][] = [
  ['memory', async ({ maxBytes }) => createMemoryStore({ maxBytes })],
  // Each store in a folder of its own: a new store starts empty.
  ['file', async ({ maxBytes }) => openFileStore({ dataDir: await mkdtemp(path.join(tmp.dir, 'store-')), maxBytes })],
  // It counts capacity in body bytes, as a team's database is sized.
  [
    'postgres',
    async ({ maxBytes }) =>
      openPostgresStore({ url: await postgres.createDatabase(`contract_${++databases}`), maxBytes }),
    (_key, _meta, body) => body.length,
  ],
];

for (const [name, open, sizeOf] of stores) describeStoreContract(name, open, sizeOf);
