import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseValidateConfig } from '../../shared/config.js';
import { subjectOf } from '../../shared/events.js';
import { call, dumpLines, startTestSink, type TestSink } from '../sink/sink-support.js';
import { waitFor } from '../support/wait-for.js';
import { AUTH, startWorker, workerFixture, type RunningWorker } from '../worker/support.js';
import { REPO_ROOT, tempDir } from './support.js';

/*
 * The only real UP42 deliveries on record (test/fixtures/up42-deliveries/), byte for byte as their files hold
 * them, through the whole chain: signed as UP42's scheme describes (made here with node's crypto), verified by the
 * Worker in workerd, kept and forwarded to a real sink that verifies them again, stores them, runs a hook with
 * their ids, and shows them as the inbox and its notifications name them.
 */

const SECRET = 'real-deliveries-secret-0123456789';
const FILES = ['job-status-test', 'job-status-live-failed', 'order-status-live-fulfilled'] as const;
const bytes = (name: string) => readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'up42-deliveries', `${name}.json`));

const w = workerFixture('real-deliveries-', SECRET);
let sink: TestSink;
let worker: RunningWorker;
let work: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  work = await tempDir('real-deliveries-');
  const hook = join(work.dir, 'hook.mjs');
  // The hook notes, per webhook, the ids the sink gave it in its environment.
  await writeFile(
    hook,
    "import { appendFileSync } from 'node:fs';\n" +
      'const { WEBHOOK_KEY, UP42_JOB_ID = "-", UP42_ORDER_ID = "-" } = process.env;\n' +
      'appendFileSync(process.argv[2], `${WEBHOOK_KEY} ${UP42_JOB_ID} ${UP42_ORDER_ID}\\n`);\n',
  );
  const up42 = parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET });
  if (!up42.ok) throw new Error(up42.message);
  sink = await startTestSink({
    store: 'memory',
    dataDir: join(work.dir, 'data'),
    auth: AUTH,
    up42: up42.value,
    hook: {
      command: `"${process.execPath}" "${hook}" "${join(work.dir, 'hook.log')}"`,
      filter: '',
      timeoutSeconds: 30,
      fromKey: 1,
    },
  });
  // Test mode, so UP42's test event is forwarded as well as the live ones.
  worker = await w.started(startWorker(w.scriptPath, w.settings(sink.url, { UP42_TEST_MODE: 'yes' })));
});

afterAll(async () => {
  await sink?.close();
  await work?.remove();
});

function up42Headers(body: Buffer): Record<string, string> {
  const created = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    date: new Date(created * 1000).toUTCString(),
    'content-digest': `sha-256=:${createHash('sha256').update(body).digest('base64')}:`,
  };
  const signed = `${headers['content-type']}${headers.date}${headers['content-digest']}`;
  headers.signature = `up42-sig=${createHmac('sha256', SECRET).update(signed).digest('base64')}`;
  headers['signature-input'] = `up42-sig=("content-type" "date" "content-digest");created=${created}`;
  return headers;
}

describe("UP42's real deliveries, through the whole chain", () => {
  it('are verified, forwarded, stored byte for byte, verified again, hooked with their ids, named', async () => {
    for (const name of FILES) {
      const body = bytes(name);
      const answer = await fetch(worker.url, { method: 'POST', headers: up42Headers(body), body });
      expect({ name, status: answer.status, text: await answer.text() }).toMatchObject({ name, status: 200 });
    }
    await waitFor(() => sink.store.count === 3, { what: 'the three deliveries at the sink' });
    const records = [];
    for await (const record of sink.store.records()) records.push(record);
    // In arrival order, each exactly the bytes UP42 sent, each verified by the sink itself.
    expect(records.map((r) => r.body.equals(bytes(FILES[r.key - 1]!)))).toEqual([true, true, true]);
    expect(records.map((r) => [r.verified, r.signed])).toEqual(
      Array(3).fill([true, ['content-type', 'date', 'content-digest']]),
    );

    // The hook gets the job's id whichever way UP42 spelled it, and the order's.
    const log = join(work.dir, 'hook.log');
    await waitFor(async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').length > 3, {
      what: 'the hook to run for all three',
    });
    expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual([
      '1 FB0DA199-01DF-4635-910D-A823AE7DC200 -',
      '2 6dbe8956-b8c5-47b3-9f56-b1686628aa19 -',
      '3 - 86296865-9e91-4a16-9a3c-d4eaa584c03e',
    ]);

    // What the inbox receives (the dump's envelopes, as its list loads them) names each as its rows and
    // notifications do.
    const dump = await call(sink.url, '/dump-webhooks?envelope=true', {
      headers: { authorization: `Basic ${Buffer.from(`${AUTH.user}:${AUTH.pass}`).toString('base64')}` },
    });
    const envelopes = dumpLines(dump.text).lines.map((l) => JSON.parse(l) as { body: unknown; verified: boolean });
    expect(envelopes.map((e) => [subjectOf(e.body), e.verified])).toEqual([
      ['Job FB0DA199-01DF-4635-910D-A823AE7DC200', true],
      ['Job 6dbe8956-b8c5-47b3-9f56-b1686628aa19', true],
      ['Order 86296865-9e91-4a16-9a3c-d4eaa584c03e (ARCHIVE)', true],
    ]);
  });
});
