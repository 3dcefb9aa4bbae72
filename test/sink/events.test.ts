/**
 * GET /events with the dump's filters (on the backlog after `since` and on live records) and the cap on
 * concurrent streams, against a real sink on loopback.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { makeEvent, type Up42EventType } from '../../shared/events.js';
import { call, destroyAgent, post, startTestSink, type TestSink } from './sink-support.js';

interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

let seq = 0;
const delivery = (event: Up42EventType, status: string, liveMode: boolean, extra: Record<string, unknown> = {}) => {
  const messageId = `ev-${process.pid}-${++seq}`;
  const base = makeEvent({ event, status, liveMode, messageId, timestamp: '2026-11-30T07:01:43.512Z' });
  return JSON.stringify({ ...base, body: { ...base.body, ...extra } });
};

/** Stores a delivery and returns its key. */
async function store(sink: TestSink, body: string): Promise<number> {
  const reply = await post(sink.url, body);
  const m = /key (\d+) stored/.exec(reply.text);
  if (reply.status !== 200 || !m) throw new Error(`POST answered ${reply.status}: ${reply.text}`);
  return Number(m[1]);
}

interface Stream {
  events: SseEvent[];
  status: Promise<number>;
  until: (pred: (e: SseEvent[]) => boolean) => Promise<void>;
  close: () => void;
}

function openEvents(url: string, query = ''): Stream {
  const events: SseEvent[] = [];
  let wake: (() => void)[] = [];
  let req: ClientRequest;
  const status = new Promise<number>((resolve, reject) => {
    req = get(`${url}/events${query}`, (res: IncomingMessage) => {
      resolve(res.statusCode ?? 0);
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        for (let i = buf.indexOf('\n\n'); i !== -1; i = buf.indexOf('\n\n')) {
          const e: SseEvent = { event: 'message', data: '' };
          for (const line of buf.slice(0, i).split('\n')) {
            const at = line.indexOf(': ');
            const [k, v] = at === -1 ? [line, ''] : [line.slice(0, at), line.slice(at + 2)];
            if (k === 'id') e.id = v;
            else if (k === 'event') e.event = v;
            else if (k === 'data') e.data = v;
          }
          buf = buf.slice(i + 2);
          if (e.data !== '') events.push(e);
        }
        const w = wake;
        wake = [];
        w.forEach((f) => f());
      });
    });
    req.on('error', reject);
  });
  status.catch(() => undefined);
  const until = async (pred: (e: SseEvent[]) => boolean) => {
    const deadline = Date.now() + 5000;
    while (!pred(events)) {
      if (Date.now() > deadline) throw new Error(`events so far: ${JSON.stringify(events)}`);
      await new Promise<void>((r) => {
        wake.push(r);
        setTimeout(r, 100);
      });
    }
  };
  return { events, status, until, close: () => req.destroy() };
}

const webhookKeys = (s: Stream) => s.events.filter((e) => e.event === 'webhook').map((e) => Number(e.id));
const lastStatsKey = (s: Stream) => {
  const stats = s.events.filter((e) => e.event === 'stats').at(-1);
  return stats ? (JSON.parse(stats.data) as { lastKey: number }).lastKey : -1;
};

let cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});
afterAll(() => destroyAgent());

async function sinkWith(maxEventStreams = 256): Promise<TestSink> {
  const sink = await startTestSink({ store: 'memory', maxEventStreams });
  cleanup.push(() => sink.close());
  return sink;
}

function stream(sink: TestSink, query = ''): Stream {
  const s = openEvents(sink.url, query);
  cleanup.push(s.close);
  return s;
}

describe('GET /events with the dump filters', () => {
  it('replays and streams only the records that pass event, status, liveMode and q; stats go to all', async () => {
    const sink = await sinkWith();
    const liveFailed = await store(sink, delivery('job.status', 'FAILED', true));
    await store(sink, delivery('job.status', 'failed', false));
    await store(sink, delivery('order.status', 'FAILED_PERMANENTLY', true));
    const marked = await store(sink, delivery('job.status', 'Failed', true, { jobName: 'Needle in Berlin' }));
    await store(sink, delivery('job.status', 'SUCCEEDED', true));

    const failedLive = stream(sink, '?since=0&event=job.status&status=failed&liveMode=true');
    const search = stream(sink, '?since=0&q=NEEDLE');
    await failedLive.until(() => webhookKeys(failedLive).length >= 2);
    await search.until(() => webhookKeys(search).length >= 1);
    expect(webhookKeys(failedLive)).toEqual([liveFailed, marked]);
    expect(webhookKeys(search)).toEqual([marked]);

    // Live: a record that fails the filter still updates the count; one that passes arrives as a webhook.
    const skipped = await store(sink, delivery('job.status', 'FAILED', false));
    await failedLive.until(() => lastStatsKey(failedLive) === skipped);
    const passes = await store(sink, delivery('job.status', 'FAILED ', true, { jobName: 'another needle' }));
    await failedLive.until(() => webhookKeys(failedLive).length >= 3);
    await search.until(() => webhookKeys(search).length >= 2);
    expect(webhookKeys(failedLive)).toEqual([liveFailed, marked, passes]);
    expect(webhookKeys(search)).toEqual([marked, passes]);
    const data = failedLive.events.find((e) => e.id === String(passes))!.data;
    expect(JSON.parse(data)).toMatchObject({ key: passes, event: 'job.status', status: 'FAILED ', liveMode: true });

    // Without a filter, every record, as before.
    const all = stream(sink, '?since=0');
    await all.until(() => webhookKeys(all).length >= passes);
    expect(webhookKeys(all)).toEqual(Array.from({ length: passes }, (_, i) => i + 1));
  });

  it('refuses a bad filter and the parameters a stream has no use for, naming them', async () => {
    const sink = await sinkWith();
    const bad = await call(sink.url, '/events?liveMode=maybe');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('liveMode must be true or false');
    const paged = await call(sink.url, '/events?limit=5&order=desc');
    expect(paged.status).toBe(400);
    expect(paged.text).toContain('limit, order: not for a stream');
  });
});

describe('the cap on /events streams', () => {
  it('answers 503 past SINK_MAX_EVENT_STREAMS and serves again once a stream closes', async () => {
    const sink = await sinkWith(2);
    const first = stream(sink);
    const second = stream(sink);
    expect(await first.status).toBe(200);
    expect(await second.status).toBe(200);
    await first.until((e) => e.length >= 1);
    await second.until((e) => e.length >= 1);

    const refused = await call(sink.url, '/events');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(JSON.parse(refused.text)).toEqual({
      code: 503,
      msg: 'too many event streams open (SINK_MAX_EVENT_STREAMS is 2): close one and retry',
    });
    // The rest of the sink is served meanwhile, and the open streams stay live.
    const key = await store(sink, delivery('job.status', 'FAILED', true));
    await first.until(() => webhookKeys(first).includes(key));
    expect((await call(sink.url, '/stats')).status).toBe(200);

    // The sink sees the close when the socket does: ask again until the freed place is taken.
    first.close();
    let third: Stream;
    for (;;) {
      third = openEvents(sink.url);
      cleanup.push(third.close);
      const status = await third.status;
      if (status === 200) break;
      expect(status).toBe(503);
      third.close();
      await new Promise<void>((r) => setImmediate(r));
    }
    await third.until((e) => e.some((x) => x.event === 'stats'));
    expect((await call(sink.url, '/events')).status).toBe(503);
  });

  it('keeps connections for /ping and webhooks: streams past the reserve get 503, not a reset', async () => {
    // The defaults: 256 streams allowed, 256 connections, so an eighth of them (32) is kept back.
    const sink = await startTestSink({ store: 'memory' });
    cleanup.push(() => sink.close());
    const streams = Array.from({ length: 270 }, () => stream(sink));
    const statuses = await Promise.all(streams.map((s) => s.status));
    expect(statuses.filter((st) => st === 200)).toHaveLength(224);
    expect(statuses.filter((st) => st === 503)).toHaveLength(46);
    const refused = await call(sink.url, '/events');
    expect(JSON.parse(refused.text)).toEqual({
      code: 503,
      msg:
        'too many event streams open (224: the rest of SINK_MAX_CONNECTIONS is kept for /ping and webhooks): ' +
        'close one and retry',
    });
    // With 224 streams open, the essentials find room, and the streams hear of the webhook.
    expect((await call(sink.url, '/ping')).text).toBe('PONG');
    const key = await store(sink, delivery('job.status', 'FAILED', true));
    const open = streams.filter((_, i) => statuses[i] === 200);
    await Promise.all(open.map((s) => s.until(() => webhookKeys(s).includes(key))));
  });
});
