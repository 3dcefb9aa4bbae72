import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './support.js';

/*
 * The hooks of examples/hooks/, run as the sink runs a hook: `node <file>` with the webhook on standard input
 * and WEBHOOK_* / UP42_* variables (sink/hooks/hook-env.ts) in the environment.
 */

const FAILED_JOB = { event: 'job.status', liveMode: true, body: { jobId: 'f1a2', status: 'FAILED' } };
const HOOK_VARS = {
  WEBHOOK_KEY: '7',
  WEBHOOK_EVENT: 'job.status',
  WEBHOOK_STATUS: 'FAILED',
  WEBHOOK_LIVE_MODE: 'true',
  UP42_JOB_ID: 'f1a2',
};

async function runHook(file: string, env: Record<string, string>, stdin: string) {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'examples/hooks', file)], {
    cwd: REPO_ROOT,
    // PATH without any notifier: the notify hook must still succeed, saying it on standard output.
    env: { PATH: '/nonexistent', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdin.end(stdin);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, out, err };
}

describe('examples/hooks/notify.mjs', () => {
  it('says what the webhook is about, and succeeds without a desktop notifier', async () => {
    const run = await runHook('notify.mjs', HOOK_VARS, JSON.stringify(FAILED_JOB));
    expect(run).toEqual({ code: 0, out: 'Job f1a2 FAILED (live)\n', err: '' });
  });
});

describe('examples/hooks/post-json.mjs', () => {
  let server: Server | null = null;
  afterEach(async () => {
    if (server) await new Promise((done) => server!.close(done));
    server = null;
  });

  async function receiver(status: number): Promise<{ url: string; received: Promise<[IncomingMessage, string]> }> {
    let deliver!: (value: [IncomingMessage, string]) => void;
    const received = new Promise<[IncomingMessage, string]>((done) => (deliver = done));
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        res.writeHead(status).end();
        deliver([req, body]);
      });
    });
    await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T0KEN`, received };
  }

  it('posts {"text": ...} to HOOK_WEBHOOK_URL', async () => {
    const { url, received } = await receiver(200);
    const run = await runHook('post-json.mjs', { ...HOOK_VARS, HOOK_WEBHOOK_URL: url }, JSON.stringify(FAILED_JOB));
    const [req, body] = await received;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hooks/T0KEN');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(body)).toEqual({ text: 'UP42 job.status: Job f1a2 FAILED · #7' });
    expect(run.code).toBe(0);
    expect(run.out + run.err).not.toContain('T0KEN');
  });

  it('fails (so the sink retries) when the receiver refuses, without printing the URL', async () => {
    const { url } = await receiver(500);
    const run = await runHook('post-json.mjs', { ...HOOK_VARS, HOOK_WEBHOOK_URL: url }, '{}');
    expect(run.code).toBe(1);
    expect(run.err).toBe('could not post: the receiver answered 500\n');
  });

  it('fails naming HOOK_WEBHOOK_URL when it is not set', async () => {
    const run = await runHook('post-json.mjs', HOOK_VARS, '{}');
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^HOOK_WEBHOOK_URL is not set/);
  });
});

describe('npm run lint', () => {
  const dropped = join(REPO_ROOT, `my-hook-${process.pid}.js`);
  afterEach(() => rm(dropped, { force: true }));

  it("checks only the project's folders: a user's unformatted CommonJS hook does not fail it", async () => {
    await writeFile(
      dropped,
      "const fs = require('fs')\nvar  unused=fs.readFileSync( 0 ,'utf8');console.log( \"x\" )\n",
    );
    const child = spawn('npm', ['run', 'lint'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const [code] = (await once(child, 'close')) as [number | null];
    expect({ code, out }).toEqual({
      code: 0,
      out: expect.stringContaining('All matched files use Prettier code style'),
    });
  }, 120_000);
});
