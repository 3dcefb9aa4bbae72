/**
 * The inbox page as `npm start` serves it: the sink's build bundles the page's TypeScript beside the sink's
 * own bundle, and that sink, run with plain node, serves the same page a sink run from its sources does.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildSink } from '../../scripts/build-sink.js';
import { bundleInboxScript, loadInboxPages } from '../../sink/inbox-pages.js';
import { REPO_ROOT, sinkEnv } from './sink-support.js';

const SOURCES = path.join(REPO_ROOT, 'sink', 'inbox');

describe('the inbox page built for npm start', () => {
  // Inside the checkout, so that the bundle's package imports resolve from its node_modules as dist/'s do.
  const buildRoot = path.join(REPO_ROOT, 'dist', `inbox-bundle-test-${process.pid}-${randomBytes(4).toString('hex')}`);
  const outDir = path.join(buildRoot, 'sink');
  let dataDir: string;
  let child: ChildProcess | undefined;
  let url: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'inbox-bundle-'));
    const main = await buildSink(outDir);
    const env = sinkEnv({ SINK_STORE: 'memory', SINK_DATA_DIR: dataDir });
    child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    url = await new Promise<string>((resolve, reject) => {
      child!.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child!.once('exit', (code) => reject(new Error(`the built sink exited (${code})\n${out}\n${err}`)));
    });
    child.stdout!.resume();
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    await rm(buildRoot, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('holds the HTML, the CSS and one script bundled from the TypeScript, and no TypeScript', async () => {
    expect((await readdir(path.join(outDir, 'inbox'))).sort()).toEqual(['inbox.css', 'inbox.js', 'index.html']);
    const script = await readFile(path.join(outDir, 'inbox', 'inbox.js'), 'utf8');
    expect(script.startsWith('"use strict";\n(() => {')).toBe(true);
    expect(script).not.toMatch(/^\s*(import|export)\s/m);
    expect(script).toContain('// shared/status.ts');
  });

  it('serves with plain node the page a sink run from its sources serves', async () => {
    const fromSources = loadInboxPages();
    expect(fromSources.js).not.toBeNull();
    expect(fromSources.js!.equals(bundleInboxScript(SOURCES)!)).toBe(true);
    for (const [route, expected, type] of [
      ['/inbox.js', fromSources.js!, 'text/javascript; charset=utf-8'],
      ['/', fromSources.index, 'text/html; charset=utf-8'],
      ['/inbox.css', fromSources.css!, 'text/css; charset=utf-8'],
    ] as const) {
      const res = await fetch(`${url}${route}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(Buffer.from(await res.arrayBuffer()).equals(expected)).toBe(true);
    }
  });
});
