import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { deliver, event } from '../forwarder/deliveries.js';
import { closedPort, startStubSink } from '../forwarder/stub-sink.js';
import { SECRET } from '../forwarder/validation-table.js';
import { startNgrokEdge } from './ngrok-edge.js';
import {
  AUTH,
  outbox,
  type OutboxView,
  type RunningWorker,
  startWorker,
  until,
  workerFixture,
  receivedIds,
} from './support.js';

// The outbox Durable Object in workerd, its storage persisted on disk as `npm run worker` keeps it: deliveries
// answered 200 while the sink is away are kept, survive a restart of the runtime, and reach the sink once, in order.

const w = workerFixture('worker-outbox-', SECRET);

describe('the sink down, a restart, the sink back', () => {
  it('keeps 30 deliveries, loses none across a restart, then delivers each once, in order', async () => {
    const persist = join(w.dataDir, 'restart');
    const down = `http://127.0.0.1:${await closedPort()}`;
    let worker: RunningWorker = await w.started(startWorker(w.scriptPath, w.settings(down), persist));

    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      const payload = event({ status: i % 2 === 0 ? 'FAILED' : 'SUCCEEDED' });
      const answer = await deliver(worker.url, payload, { secret: SECRET });
      expect(answer.json).toMatchObject({ outcome: 'kept', seq: i + 1 });
      sent.push(payload.messageId);
    }
    const away = await until('the outbox to find the sink away', async () => {
      const view = await outbox(worker.url, AUTH);
      return view.sink.away && view.deliveries[0]!.attempts >= 1 ? view : undefined;
    });
    expect(away).toMatchObject({ waiting: 30, failed: 0, delivered: 0 });
    expect(away.sink.cause).toMatch(/^unreachable: the sink is not reachable at .*\/ping/);
    expect(away.deliveries.map((d) => d.messageId)).toEqual(sent);
    expect(away.deliveries.every((d) => d.state === 'waiting')).toBe(true);

    // The runtime stops; its storage stays on disk. The sink comes back, and the Worker starts pointing at it.
    await w.stop(worker);
    const sink = await w.started(startStubSink(AUTH));
    worker = await w.started(startWorker(w.scriptPath, w.settings(sink.url), persist));

    await until('all 30 to reach the sink', async () => sink.stored.size === 30, 30_000);
    expect(receivedIds(sink)).toEqual(sent);
    // The line empties one write before the outbox notes the sink back: wait for both, not just the first.
    const after = await until('the outbox to settle', async () => {
      const view = await outbox(worker.url, AUTH);
      return view.waiting === 0 && !view.sink.away ? view : undefined;
    });
    expect(after).toMatchObject({ waiting: 0, failed: 0, delivered: 30, sink: { away: false } });
    await w.stop(worker);
    await w.stop(sink);
  });
});

describe('the retry schedule while the sink is away', () => {
  it('follows FORWARD_PARK_DELAYS=1,1,2, the last delay repeating', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const worker = await w.started(startWorker(w.scriptPath, w.settings(down), join(w.dataDir, 'schedule')));
    const payload = event();
    expect((await deliver(worker.url, payload, { secret: SECRET })).status).toBe(200);

    const tries = new Map<number, OutboxView['deliveries'][number]>();
    await until(
      'four tries',
      async () => {
        const [head] = (await outbox(worker.url, AUTH)).deliveries;
        if (head !== undefined && head.attempts > 0) tries.set(head.attempts, head);
        return tries.has(4);
      },
      20_000,
    );
    const waits = [1, 2, 3, 4].map((n) => Date.parse(tries.get(n)!.nextTryAt!) - Date.parse(tries.get(n)!.lastTryAt!));
    expect(waits).toEqual([1000, 1000, 2000, 2000]);
    // Each try came when it was due.
    for (const n of [2, 3, 4])
      expect(Date.parse(tries.get(n)!.lastTryAt!)).toBeGreaterThanOrEqual(Date.parse(tries.get(n - 1)!.nextTryAt!));
    await w.stop(worker);
  });
});

describe("behind ngrok's edge", () => {
  it('an offline endpoint (ERR_NGROK_3200) counts as the sink away, on the ping and on the POST', async () => {
    const edge = await w.started(startNgrokEdge(null));
    const worker = await w.started(startWorker(w.scriptPath, w.settings(edge.url), join(w.dataDir, 'ngrok')));
    const payload = event();
    expect((await deliver(worker.url, payload, { secret: SECRET })).status).toBe(200);
    const offline = await until('the edge to be seen offline', async () => {
      const view = await outbox(worker.url, AUTH);
      return view.sink.away && view.deliveries[0]!.attempts >= 1 ? view : undefined;
    });
    expect(offline).toMatchObject({ waiting: 1, failed: 0 });
    expect(offline.sink.cause).toContain('/ping');

    // The tunnel comes up, but the POST still meets the offline page (the agent dropped in between): still away.
    const sink = await w.started(startStubSink(AUTH));
    edge.offlineFor.set('/receive-webhooks', 1);
    edge.target = sink.url;
    const done = await until('the delivery', async () => {
      const view = await outbox(worker.url, AUTH);
      return view.waiting === 0 ? view : undefined;
    });
    expect(edge.offlineFor.get('/receive-webhooks')).toBe(0);
    expect(done).toMatchObject({ delivered: 1, failed: 0 });
    expect(receivedIds(sink)).toEqual([payload.messageId]);
    await w.stop(worker);
    await w.stop(sink);
    await w.stop(edge);
  });
});

describe('a delivery the sink refuses for good', () => {
  it('is marked failed and kept, with the reason, and the line moves on', async () => {
    const sink = await w.started(startStubSink(AUTH));
    const worker = await w.started(startWorker(w.scriptPath, w.settings(sink.url), join(w.dataDir, 'refused')));
    sink.plan.receive.push({ status: 400, body: '{"code": 400, "msg": "not a webhook the sink takes"}\n' });
    const refused = event();
    const next = event();
    expect((await deliver(worker.url, refused, { secret: SECRET })).status).toBe(200);
    expect((await deliver(worker.url, next, { secret: SECRET })).status).toBe(200);
    const view = await until('the line to clear', async () => {
      const v = await outbox(worker.url, AUTH);
      return v.waiting === 0 && v.delivered === 1 ? v : undefined;
    });
    expect(view).toMatchObject({ failed: 1, delivered: 1 });
    expect(view.deliveries).toHaveLength(0);
    const failed = await outbox(worker.url, AUTH, 'state=failed');
    expect(failed.deliveries).toHaveLength(1);
    expect(failed.deliveries[0]).toMatchObject({ state: 'failed', messageId: refused.messageId, attempts: 1 });
    expect(failed.deliveries[0]!.cause).toMatch(
      /refused: the sink refused the webhook .* 400 "not a webhook the sink takes"/,
    );
    expect(sink.stored.has(next.messageId)).toBe(true);
    expect(sink.stored.has(refused.messageId)).toBe(false);
    await w.stop(worker);
    await w.stop(sink);
  });
});
