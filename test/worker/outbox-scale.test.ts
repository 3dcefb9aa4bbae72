import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { deliver, event } from '../forwarder/deliveries.js';
import { closedPort, startStubSink } from '../forwarder/stub-sink.js';
import { SECRET } from '../forwarder/validation-table.js';
import { AUTH, basic, outbox, startWorker, until, workerFixture, receivedIds } from './support.js';

// 10,000 deliveries kept while the sink is away, then delivered once each, in the order they were kept, once
// the sink is back; the outbox pages through what waits.

const COUNT = 10_000;
const IN_FLIGHT = 16;

const w = workerFixture('worker-scale-', SECRET);

describe('10,000 waiting', () => {
  it('are kept, paged through, and delivered in order, once each', async () => {
    const persist = join(w.dataDir, 'scale');
    const down = `http://127.0.0.1:${await closedPort()}`;
    const worker = await w.started(startWorker(w.scriptPath, w.settings(down), persist));
    const bySeq = new Map<number, string>();
    let next = 0;
    const send = async () => {
      while (next < COUNT) {
        next++;
        const payload = event();
        const answer = await deliver(worker.url, payload, { secret: SECRET });
        expect(answer.status).toBe(200);
        bySeq.set(answer.json.seq as number, payload.messageId);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, send));
    expect(bySeq.size).toBe(COUNT);
    const order = [...bySeq.keys()].sort((a, b) => a - b).map((seq) => bySeq.get(seq)!);

    const first = await outbox(worker.url, AUTH, 'limit=100');
    expect(first).toMatchObject({ waiting: COUNT, next: 100 });
    expect(first.deliveries.map((d) => d.messageId)).toEqual(order.slice(0, 100));
    const second = await outbox(worker.url, AUTH, `after=${first.next}&limit=100`);
    expect(second.deliveries.map((d) => d.messageId)).toEqual(order.slice(100, 200));

    // The sink comes back; the Worker restarts pointing at it and is told so.
    const sink = await w.started(startStubSink(AUTH));
    await worker.reconfigure(w.settings(sink.url));
    const woken = await fetch(`${worker.url}/wake`, { method: 'POST', headers: { authorization: basic(AUTH) } });
    expect(woken.status).toBe(200);
    await until('all delivered', async () => (await outbox(worker.url, AUTH)).delivered === COUNT, 240_000);
    const received = receivedIds(sink);
    expect(received).toEqual(order);
    expect(await outbox(worker.url, AUTH)).toMatchObject({ waiting: 0, failed: 0, delivered: COUNT });
  }, 600_000);
});
