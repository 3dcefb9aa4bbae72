import { afterEach, beforeEach } from '@jest/globals';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { openFileStore } from '../../sink/store/file-store.js';
import { createMemoryStore } from '../../sink/store/memory-store.js';
import { tempDir } from './sink-support.js';
import { describeStoreContract, type OpenStore } from './store-contract.js';

// Every store keeps the same contract: one suite, run against each. A store joins with one entry here.

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.remove();
});

const stores: [name: string, open: OpenStore][] = [
  ['memory', async ({ maxBytes }) => createMemoryStore({ maxBytes })],
  // Each store in a folder of its own: a new store starts empty.
  ['file', async ({ maxBytes }) => openFileStore({ dataDir: await mkdtemp(path.join(tmp.dir, 'store-')), maxBytes })],
];

for (const [name, open] of stores) describeStoreContract(name, open);
