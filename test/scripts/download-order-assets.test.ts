import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEvent } from '../../shared/events.js';
import { basic, post, REPO_ROOT, spawnSink, tempDir, type SpawnedSink } from '../sink/sink-support.js';
import { waitFor } from '../support/wait-for.js';
import { startFakeUp42, type FakeUp42 } from './support/fake-up42.js';

// The example hook as the README configures it: a real sink runs scripts/hooks/download-order-assets.ts for
// each fulfilled order, against a stand-in for UP42's sign-in and storage API.

const AUTH = { user: 'relay', pass: 'example-hook-password' };
const ORDER = 'order-4e3f-4a1b';

let up42: FakeUp42;
let work: { dir: string; remove: () => Promise<void> };
let sink: SpawnedSink | null = null;

beforeAll(async () => {
  up42 = await startFakeUp42();
});
afterAll(async () => {
  await up42.close();
});
afterEach(async () => {
  await sink?.stop();
  sink = null;
  up42.reset();
  await work.remove();
});

async function startSink(): Promise<SpawnedSink> {
  work = await tempDir();
  sink = await spawnSink({
    SINK_DATA_DIR: join(work.dir, 'data'),
    SINK_BASIC_AUTH_USER: AUTH.user,
    SINK_BASIC_AUTH_PASS: AUTH.pass,
    SINK_HOOK_COMMAND:
      `"${process.execPath}" --import tsx "${join(REPO_ROOT, 'scripts/hooks/download-order-assets.ts')}" ` +
      `"${join(work.dir, 'downloads')}"`,
    SINK_HOOK_FILTER: 'event=order.status&liveMode=true',
    UP42_USERNAME: up42.username,
    UP42_PASSWORD: up42.password,
    UP42_AUTH_URL: up42.url,
    UP42_API_URL: up42.url,
  });
  return sink;
}

const order = (status: string, orderId = ORDER) => {
  const event = makeEvent({
    event: 'order.status',
    status,
    liveMode: true,
    messageId: randomUUID(),
    timestamp: new Date().toISOString(),
  });
  return JSON.stringify({ ...event, body: { ...(event.body as object), orderId } });
};

const store = async (s: SpawnedSink, body: string) => {
  const reply = await post(s.url, body, {
    authorization: basic(AUTH.user, AUTH.pass),
    'content-type': 'application/json',
  });
  expect(reply.status).toBe(200);
};

describe("the example hook: download a fulfilled order's assets", () => {
  it('downloads every asset of the order, all pages, into FOLDER/<order id>/', async () => {
    const assets = ['a-1', 'a-2', 'a-3'].map((id) => ({
      id,
      name: `scene ${id}`,
      content: Buffer.from(`zip bytes of ${id} ${randomUUID()}`),
    }));
    up42.assets.set(ORDER, assets);
    const s = await startSink();
    await store(s, order('FULFILLED'));
    await waitFor(() => /hook 1: done/.test(s.stdout()), { what: 'the hook', describe: () => s.stdout() + s.stderr() });
    const folder = join(work.dir, 'downloads', ORDER);
    expect(readdirSync(folder).sort()).toEqual(['a-1.zip', 'a-2.zip', 'a-3.zip']);
    for (const asset of assets) expect(readFileSync(join(folder, `${asset.id}.zip`))).toEqual(asset.content);
    expect(s.stdout()).toContain(`hook 1: order ${ORDER}: 3 assets in`);
    // It signed in once with the CLI's password grant, and never printed the password.
    expect(up42.requests.filter((r) => r.path.endsWith('/token'))).toHaveLength(1);
    expect(s.stdout() + s.stderr()).not.toContain(up42.password);
  });

  it('does nothing for an order that is not fulfilled', async () => {
    up42.assets.set(ORDER, [{ id: 'a-1', name: 'scene', content: Buffer.from('zip') }]);
    const s = await startSink();
    await store(s, order('PLACED'));
    await waitFor(() => /hook 1: done/.test(s.stdout()), { what: 'the hook' });
    expect(s.stdout()).toContain('hook 1: not a fulfilled order: nothing to download');
    expect(existsSync(join(work.dir, 'downloads'))).toBe(false);
    expect(up42.requests).toHaveLength(0);
  });

  it('fails while UP42 fails, so the sink tries again, and then completes', async () => {
    up42.assets.set(ORDER, [{ id: 'a-9', name: 'scene', content: Buffer.from('zip of a-9') }]);
    up42.forceStatus.set('/v2/assets', 503);
    const s = await startSink();
    await store(s, order('FULFILLED'));
    await waitFor(() => /hook 1: failed \(exit 1\), attempt 1/.test(s.stderr()), {
      what: 'the failure',
      describe: () => s.stdout() + s.stderr(),
    });
    expect(s.stdout()).toContain("hook 1: order order-4e3f-4a1b: UP42's storage search answered 503");
    up42.forceStatus.clear();
    await waitFor(() => /hook 1: done/.test(s.stdout()), {
      what: 'the retry',
      describe: () => s.stdout() + s.stderr(),
    });
    expect(readFileSync(join(work.dir, 'downloads', ORDER, 'a-9.zip'), 'utf8')).toBe('zip of a-9');
  });
});
