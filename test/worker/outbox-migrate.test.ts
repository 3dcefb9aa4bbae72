import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import type { DurableObjectNamespace } from '../../forwarder/worker/runtime-types.js';
import { deliver, event } from '../forwarder/deliveries.js';
import { startStubSink } from '../forwarder/stub-sink.js';
import { SECRET } from '../forwarder/validation-table.js';
import { basic, buildWorkerOnce, outbox, startWorker, until, receivedIds } from './support.js';

// An outbox deployed before the SQL tables kept its deliveries under key-value keys. Those keys are written
// here as that layout had them, through the storage API of an object of the same name in the same storage;
// the Worker of today then starts on that storage and delivers every one of them, in order, once.

const AUTH = { user: 'relay-user', pass: 'sink-pass-Hn4v-TOPSECRET' };

let built: Awaited<ReturnType<typeof buildWorkerOnce>>;
let dataDir: string;

beforeAll(async () => {
  built = await buildWorkerOnce();
  dataDir = await mkdtemp(join(tmpdir(), 'worker-migrate-'));
});

afterAll(async () => {
  await built?.cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

/** An object that writes whatever entries it is given: the old layout, key by key. */
const WRITER = `
export class Outbox {
  constructor(state) { this.storage = state.storage; }
  async fetch(request) { await this.storage.put(await request.json()); return new Response('ok'); }
}
export default { fetch() { return new Response('writer'); } };
`;

async function writeOldLayout(persist: string, entries: Record<string, unknown>): Promise<void> {
  const mf = new Miniflare({
    modules: true,
    script: WRITER,
    durableObjects: { OUTBOX: { className: 'Outbox', useSQLite: true } },
    durableObjectsPersist: persist,
  });
  try {
    const ns = (await mf.getDurableObjectNamespace('OUTBOX')) as unknown as DurableObjectNamespace;
    const answer = await ns.get(ns.idFromName('outbox')).fetch('https://outbox/', {
      method: 'POST',
      body: JSON.stringify(entries),
    });
    expect(await answer.text()).toBe('ok');
  } finally {
    await mf.dispose();
  }
}

const pad = (seq: number) => String(seq).padStart(12, '0');

describe('an outbox of the key-value layout', () => {
  it('moves into the tables on first start and delivers what waited, in order, once', async () => {
    const persist = join(dataDir, 'old');
    const payloads = [event(), event(), event()];
    const entries: Record<string, unknown> = { 'meta:next-seq': 4, 'meta:delivered': 7, 'meta:streak': 2 };
    payloads.forEach((payload, i) => {
      const seq = i + 1;
      const body = JSON.stringify(payload);
      const failed = seq === 2;
      entries[`${failed ? 'failed' : 'waiting'}:${pad(seq)}`] = {
        seq,
        receivedAtMs: Date.now() - 60_000,
        bytes: Buffer.byteLength(body),
        messageId: payload.messageId,
        event: 'job.status',
        status: 'FAILED',
        attempts: 3,
        lastTryAtMs: Date.now() - 1_000,
        cause: 'unreachable: down',
        nextTryAtMs: Date.now() + 3_600_000,
        failedAtMs: failed ? Date.now() - 1_000 : null,
      };
      entries[`body:${pad(seq)}`] = body;
    });
    await writeOldLayout(persist, entries);

    const sink = await startStubSink(AUTH);
    const worker = await startWorker(
      built.scriptPath,
      {
        UP42_WEBHOOK_SECRET: SECRET,
        SINK_URL: sink.url,
        SINK_BASIC_AUTH_USER: AUTH.user,
        SINK_BASIC_AUTH_PASS: AUTH.pass,
        FORWARD_MAX_ATTEMPTS: '1',
      },
      persist,
    );
    try {
      const failedView = await outbox(worker.url, AUTH, 'state=failed');
      expect(failedView.deliveries.map((d) => d.messageId)).toEqual([payloads[1]!.messageId]);
      // The head's planned try is an hour away: the sink's wake brings it forward.
      await fetch(`${worker.url}/wake`, { method: 'POST', headers: { authorization: basic(AUTH) } });
      await until('both waiting delivered', async () => sink.stored.size === 2);
      const ids = receivedIds(sink);
      expect(ids).toEqual([payloads[0]!.messageId, payloads[2]!.messageId]);
      const view = await until('the outbox to settle', async () => {
        const v = await outbox(worker.url, AUTH);
        return v.waiting === 0 ? v : undefined;
      });
      expect(view).toMatchObject({ waiting: 0, failed: 1, delivered: 9 });
      // A new delivery continues the old numbering.
      const answer = await deliver(worker.url, event(), { secret: SECRET });
      expect(answer.json).toMatchObject({ outcome: 'kept', seq: 5 });
    } finally {
      await worker.close();
      await sink.close();
    }
  });
});
