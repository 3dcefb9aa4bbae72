import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { call, destroyAgent, post, startTestSink, type TestSink } from './sink-support.js';

// What a hostile browser page or client could do to a sink on this machine, each refused on real sockets.

const sinks: TestSink[] = [];
async function sinkWith(...args: Parameters<typeof startTestSink>): Promise<TestSink> {
  const sink = await startTestSink(...args);
  sinks.push(sink);
  return sink;
}
afterEach(async () => {
  for (const sink of sinks.splice(0)) await sink.close();
});
afterAll(() => destroyAgent());

describe('POST /receive-webhooks from a browser page', () => {
  it('takes only a JSON type: a text/plain form gets 415 and stores nothing', async () => {
    const sink = await sinkWith({ store: 'memory' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx']) {
      const reply = await call(sink.url, '/receive-webhooks', { method: 'POST', headers: { 'content-type': type }, body: '{"a":1}' });
      expect(reply.status).toBe(415);
      expect(reply.text).toBe('{"code": 415, "msg": "Content-Type must be application/json"}\n');
    }
    const none = await call(sink.url, '/receive-webhooks', { method: 'POST', body: '{"a":1}' });
    expect(none.status).toBe(415);
    expect(sink.store.count).toBe(0);
    for (const type of ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/cloudevents+json']) {
      expect((await post(sink.url, `{"messageId":"${type}"}`, { 'content-type': type })).status).toBe(200);
    }
    expect(sink.store.count).toBe(4);
  });

  it('refuses cross-site and same-site requests and foreign origins with 403; its own origin passes', async () => {
    const sink = await sinkWith({ store: 'memory' });
    const host = new URL(sink.url).host;
    const refused: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'http://localhost:3000' },
      { origin: 'null' },
      { origin: `http://${host}.evil.test` },
    ];
    for (const headers of refused) {
      const reply = await post(sink.url, '{"a":1}', headers);
      expect(reply.status).toBe(403);
      expect(reply.text).toMatch(/^\{"code": 403, "msg": "cross-site requests are refused: /);
    }
    expect(sink.store.count).toBe(0);
    expect((await post(sink.url, '{"a":1}', { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await post(sink.url, '{"a":2}', { 'sec-fetch-site': 'none' })).status).toBe(200);
    expect(sink.store.count).toBe(2);
  });
});
