import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { parseUp42Args } from '../../scripts/up42/args.js';
import { parseSinkConfig } from '../../shared/config.js';
import { ENV_VARS } from '../../shared/env.js';
import type { VerifyFailure } from '../../shared/signature.js';
import { planTunnel, tunnelFailedLine, tunnelOpenLines, type TunnelPlan } from '../../sink/tunnel-plan.js';
import { startFakeUp42 } from '../scripts/support/fake-up42.js';
import {
  anchors,
  dotenvPairs,
  fencedBlocks,
  headings,
  onPorts,
  relativeLinks,
  section,
  shellCommands,
  tableRows,
} from './readme-support.js';
import { http, listeningOn, REPO_ROOT, spawnShell, tempDir, type Proc } from './support.js';
import { waitFor } from '../support/wait-for.js';

/**
 * README.md and docs/*.md, followed by the letter. Every command in their sh blocks is either run here, as
 * written, or listed in NOT_RUN with the reason it cannot run in a test (it needs the internet, or it is the
 * test suite itself); a command that is neither fails the last test, and so does a NOT_RUN entry no page has.
 *
 * The commands run in a sandbox that stands for a fresh clone: a temporary folder with copies of the
 * sources and package.json, node_modules linked, and a `.env` made from `.env.example` the way the README
 * says. Processes get PATH and a throwaway HOME only, so neither a developer's .env nor their shell leaks in.
 * The README uses the default ports (9888 for the sink, 8787 for the Worker); the test starts both on
 * ephemeral ports and rewrites those two addresses in each command before running it (see `onPorts`).
 * curl and jq must be installed: the README's store commands are run with them, not imitated.
 */

/** Each page by its path from the repository's root: the README first, then docs/ in name order. */
const PAGES: ReadonlyMap<string, string> = new Map(
  [
    'README.md',
    ...readdirSync(join(REPO_ROOT, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .sort()
      .map((name) => `docs/${name}`),
  ].map((path) => [path, readFileSync(join(REPO_ROOT, path), 'utf8')]),
);
const README = PAGES.get('README.md')!;
const COMMANDS = [...PAGES.values()].flatMap(shellCommands);
const run = new Set<string>();

const NOT_RUN: ReadonlyMap<string, string> = new Map([
  ['npm install && npm start', 'npm install needs the npm registry; `npm start` itself is run below'],
  ['npm test', 'it is the test suite this test belongs to'],
  ['npm run test:reliability', 'the long reliability suite, run on its own (its script is checked to exist)'],
  ['npm run bench', 'benchmarks measure speed on an idle machine (its script is checked to exist)'],
  ...[
    'npm run bench              # the full run, about 6 minutes; writes bench/results.json',
    'npm run bench -- --quick   # 2 s runs, 10,000-record stores; writes dist/bench/results.quick.json',
    'npm run bench:verify       # only the signature check',
    'BENCH_CPU_PROF=/tmp/prof npm run bench -- --quick   ' +
      '# also write V8 CPU profiles of every server, /tmp/prof/<server>-<n>/',
  ].map((c) => [c, 'benchmarks measure speed on an idle machine (their scripts are checked to exist)'] as const),
  ['sudo apt-get install postgresql', "installs a system service as root (the tests' server comes from npm)"],
  ['sudo -u postgres psql', "needs Debian's postgresql service (the tests' server comes from npm)"],
  [
    'docker run -d --name webhooks-db -e POSTGRES_USER=webhook_sink -e POSTGRES_PASSWORD=change-me-please ' +
      '-e POSTGRES_DB=webhooks -p 127.0.0.1:5432:5432 postgres:18',
    "needs Docker and its registry (the tests' server comes from npm)",
  ],
  [
    'pd publish dist/pipedream/actions/validate.mjs',
    "needs Pipedream's CLI and account (the file is checked to be built)",
  ],
  [
    'pd publish dist/pipedream/actions/forward.mjs',
    "needs Pipedream's CLI and account (the file is checked to be built)",
  ],
  ['npm run up42 -- webhooks events', "talks to UP42's API (the arguments are checked)"],
  [
    'npm run up42 -- webhooks create --name local-sink --url https://YOUR-ENDPOINT.m.pipedream.net --events job.status,order.status --secret "$UP42_WEBHOOK_SECRET" --active',
    "talks to UP42's API (the arguments are checked)",
  ],
  ['npm run up42 -- webhooks list', "talks to UP42's API (the arguments are checked)"],
  [
    'npm run up42 -- webhooks update WEBHOOK_ID --url https://YOUR-ENDPOINT.m.pipedream.net --active',
    "talks to UP42's API (the arguments are checked)",
  ],
  ['npm run up42 -- webhooks test WEBHOOK_ID', "talks to UP42's API (the arguments are checked)"],
  ['npx wrangler login', "needs a Cloudflare account (the Worker's tests run it in workerd)"],
  ['npx wrangler deploy', "needs a Cloudflare account (the Worker's tests run it in workerd)"],
  ['npx wrangler secret put UP42_WEBHOOK_SECRET', 'needs a Cloudflare account and a deployed Worker'],
  ['npx wrangler secret put SINK_URL', 'needs a Cloudflare account and a deployed Worker'],
  ['npx wrangler secret put SINK_BASIC_AUTH_USER', 'needs a Cloudflare account and a deployed Worker'],
  ['npx wrangler secret put SINK_BASIC_AUTH_PASS', 'needs a Cloudflare account and a deployed Worker'],
  [
    'curl -s https://up42-webhook-forwarder.YOUR-SUBDOMAIN.workers.dev/check',
    'needs a deployed Worker (GET /check is run locally below)',
  ],
  [
    'npm run up42 -- webhooks update WEBHOOK_ID --url https://up42-webhook-forwarder.YOUR-SUBDOMAIN.workers.dev',
    "talks to UP42's API (the arguments are checked)",
  ],
]);

const SEND = 'npm run send-test-event -- --url http://127.0.0.1:8787';

let sandbox: { dir: string; remove: () => Promise<void> };
let env: Record<string, string>;
const ports = { sink: 0, worker: 0 };
let sink: Proc | null = null;
let worker: Proc | null = null;
let auth: { user: string; pass: string };

/** A command of the README or docs/: it must be on one of the pages, as written. */
function readme(command: string): string {
  if (!COMMANDS.includes(command)) throw new Error(`neither README.md nor docs/ has the command "${command}"`);
  run.add(command);
  return command;
}

/** Runs README commands to completion in one bash, in the sandbox, on the test's ports. */
async function sh(
  commands: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = commands.map((c) => onPorts(readme(c), ports)).join('\n');
  try {
    const { stdout, stderr } = await promisify(execFile)('bash', ['-c', script], {
      cwd: sandbox.dir,
      env: { ...env, ...extraEnv },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Starts a long-running README command (a server) in the sandbox. */
function serve(command: string, extraEnv: Record<string, string>): Proc {
  return spawnShell(onPorts(readme(command), ports), { ...env, ...extraEnv }, sandbox.dir);
}

/** Polls the sink's count until it is `count`: the Worker's outbox delivers on its own, a moment after its 200. */
const storedCount = (count: number) =>
  waitFor(
    async () =>
      (JSON.parse((await http(`http://127.0.0.1:${ports.sink}/stats`, { auth })).text) as { count: number }).count ===
      count,
    { what: `${count} webhooks in the sink`, timeoutMs: 30_000, intervalMs: 100 },
  );

/** Polls the Worker's outbox until nothing waits, so a later restart of the sink finds nothing in flight. */
const outboxDrained = () =>
  waitFor(
    async () =>
      (JSON.parse((await http(`http://127.0.0.1:${ports.worker}/outbox`, { auth })).text) as { waiting: number })
        .waiting === 0,
    { what: "the Worker's outbox to deliver", timeoutMs: 30_000, intervalMs: 100 },
  );

/** The result line the sender prints for one delivery (after npm's own banner lines). */
const resultLine = (out: string) => out.split('\n').find((l) => /^\d{3} /.test(l)) ?? `(no result line in: ${out})`;

/** What npm start prints about the tunnel in that situation. */
const tunnelLine = (plan: TunnelPlan) => (plan.kind === 'open' ? `(opens a tunnel to ${plan.target})` : plan.message);

const block = (lang: string, containing: string) => {
  const found = [...PAGES.values()]
    .flatMap((text) => fencedBlocks(text))
    .find((b) => b.lang === lang && b.body.includes(containing));
  if (!found) throw new Error(`no page has a ${lang} block containing "${containing}"`);
  return found.body;
};

/** A section of whichever page has the heading: exactly one must. */
const sectionOf = (heading: string) => {
  const holders = [...PAGES].filter(([, text]) => text.split('\n').some((l) => l.trim() === heading));
  if (holders.length !== 1) throw new Error(`${holders.length} pages have the heading "${heading}"`);
  return section(holders[0]![1], heading);
};

beforeAll(async () => {
  for (const tool of ['curl', 'jq']) {
    await promisify(execFile)('bash', ['-c', `command -v ${tool}`]).catch(() => {
      throw new Error(`the README test runs the README's commands with ${tool}: install it (apt-get install ${tool})`);
    });
  }
  sandbox = await tempDir('e2e-readme-');
  for (const entry of [
    'package.json',
    'tsconfig.json',
    'pipedream.yaml',
    'wrangler.json',
    '.env.example',
    'sink',
    'shared',
    'forwarder',
    'scripts',
  ]) {
    await cp(join(REPO_ROOT, entry), join(sandbox.dir, entry), { recursive: true });
  }
  await symlink(join(REPO_ROOT, 'node_modules'), join(sandbox.dir, 'node_modules'), 'dir');
  await mkdir(join(sandbox.dir, 'home'));
  env = {
    PATH: process.env.PATH ?? '',
    HOME: join(sandbox.dir, 'home'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
  };
});

afterAll(async () => {
  await Promise.all([sink?.stop(), worker?.stop()]);
  await sandbox?.remove();
}, 30_000);

describe('README.md and docs/, run as written', () => {
  it('opens with the title, one paragraph, and a quick start of exactly two commands', () => {
    const lines = README.split('\n');
    expect(lines[0]).toMatch(/^# \S/);
    // The paragraph runs up to the first section, the Contents; the Quick start comes right after it.
    const first = README.indexOf('\n## ');
    const intro = README.slice(lines[0]!.length, first).trim();
    expect(intro).not.toBe('');
    expect(intro).not.toMatch(/\n\s*\n/);
    expect(README.slice(lines[0]!.length, first)).not.toMatch(/\n# /);
    expect(headings(README).slice(1, 3)).toEqual([
      { level: 2, text: 'Contents' },
      { level: 2, text: 'Quick start' },
    ]);
    expect(shellCommands(section(README, '## Quick start'))).toEqual(['npm install && npm start', 'npm test']);
    expect(COMMANDS.slice(0, 2)).toEqual(['npm install && npm start', 'npm test']);
  });

  it('cp .env.example .env, then the four lines to fill in, makes a configuration every part accepts', async () => {
    expect(await sh(['cp .env.example .env'])).toMatchObject({ code: 0 });
    let dotenv = await readFile(join(sandbox.dir, '.env'), 'utf8');
    expect(dotenv).toBe(await readFile(join(REPO_ROOT, '.env.example'), 'utf8'));
    const fill = dotenvPairs(block('dotenv', 'UP42_WEBHOOK_SECRET='));
    expect(fill.map(([k]) => k)).toEqual([
      'UP42_WEBHOOK_SECRET',
      'SINK_BASIC_AUTH_USER',
      'SINK_BASIC_AUTH_PASS',
      'SINK_URL',
    ]);
    // What a user does in an editor: give the existing lines their values.
    for (const [key, value] of fill) {
      const line = new RegExp(`^${key}=.*$`, 'm');
      expect(dotenv).toMatch(line);
      dotenv = dotenv.replace(line, `${key}=${value}`);
    }
    await writeFile(join(sandbox.dir, '.env'), dotenv);
    const values = Object.fromEntries(fill);
    auth = { user: values.SINK_BASIC_AUTH_USER!, pass: values.SINK_BASIC_AUTH_PASS! };
    // The walkthrough's password is one the tunnel would accept later.
    const config = parseSinkConfig(values);
    expect(
      config.ok && planTunnel({ ...config.value, ngrok: { authtoken: 'token' } }, 'http://127.0.0.1:9888').kind,
    ).toBe('open');
  });

  it('npm start: the sink starts with the lines the README shows, reading .env', async () => {
    sink = serve('npm start', { SINK_PORT: '0' });
    ports.sink = (await listeningOn(sink)).port;
    await sink.waitFor(/webhooks stored/);
    const shown = block('text', 'listening on http://127.0.0.1:9888').split('\n');
    const printed = sink
      .output()
      .split('\n')
      .filter((l) => /^(listening on|basic auth|data in|\d+ webhooks? stored)/.test(l));
    expect(printed[0]).toBe(onPorts(shown[0]!, ports));
    // .env sets the credentials: the sink says so before anything else.
    expect(printed[1]).toBe(shown[1]);
    expect(printed[2]).toBe(`data in ${join(sandbox.dir, 'data', 'webhooks.jsonl')}`);
    expect(shown[2]).toMatch(/^data in \/.*\/data\/webhooks\.jsonl$/);
    expect(printed[3]).toBe(shown[3]);
    // No NGROK_AUTHTOKEN in .env: the tunnel stays off, and npm start says how to turn it on.
    const tunnel = (await sink.waitFor(/^tunnel .*$/m))[0];
    expect(tunnel).toBe(
      onPorts(
        shown.find((l) => l.startsWith('tunnel '))!,
        ports,
      ),
    );
    // .env's credentials are in force.
    expect((await http(`http://127.0.0.1:${ports.sink}/stats`)).status).toBe(401);
    expect((await http(`http://127.0.0.1:${ports.sink}/stats`, { auth })).status).toBe(200);
    // SINK_URL in .env names the sink; here, on the port it really got.
    const dotenv = await readFile(join(sandbox.dir, '.env'), 'utf8');
    await writeFile(join(sandbox.dir, '.env'), onPorts(dotenv, ports));
  }, 60_000);

  it('npm run worker, then the FAILED live event is kept and stored under key 1', async () => {
    worker = serve('npm run worker', { WORKER_PORT: '0' });
    ports.worker = (await listeningOn(worker)).port;
    const shown = block('text', 'listening on http://127.0.0.1:8787').split('\n')[0]!;
    const printed = (await worker.waitFor(/^listening on .*$/m))[0];
    expect(printed).toBe(onPorts(shown, ports).replace('/home/you/up42-webhook-relay', sandbox.dir));
    const sent = await sh([`${SEND} --live --event job.status --status FAILED`]);
    expect(sent.code).toBe(0);
    const line = resultLine(sent.stdout);
    expect(line).toMatch(/^200 \{"outcome":"kept","seq":1,"waiting":1,"event":"job.status","status":"FAILED"/);
    // The README shows the same start.
    expect(line.startsWith(block('text', '200 {"outcome":"kept"').split('…')[0]!)).toBe(true);
    await storedCount(1);
  }, 60_000);

  it('the filter: FAILED_PERMANENTLY stored; RUNNING, test event ignored; bad secret, stale refused', async () => {
    const order = await sh([`${SEND} --live --event order.status --status FAILED_PERMANENTLY`]);
    expect([order.code, resultLine(order.stdout)]).toEqual([
      0,
      expect.stringMatching(/^200 \{"outcome":"kept",.*"event":"order.status","status":"FAILED_PERMANENTLY"/),
    ]);
    const [running, wrongSecret, stale, testEvent] = await Promise.all([
      sh([`${SEND} --live --event job.status --status RUNNING`]),
      sh([`${SEND} --live --event job.status --status FAILED --secret not-the-secret`]),
      sh([`${SEND} --live --event job.status --status FAILED --created $(( $(date +%s) - 600 ))`]),
      sh([SEND]),
    ]);
    expect([running.code, resultLine(running.stdout)]).toEqual([
      0,
      expect.stringMatching(/^202 \{"outcome":"ignored","reason":"status RUNNING is not in the notify list"/),
    ]);
    expect([wrongSecret.code, resultLine(wrongSecret.stderr)]).toEqual([
      1,
      expect.stringMatching(/^401 \{"outcome":"rejected","reason":"mac-mismatch"/),
    ]);
    expect([stale.code, resultLine(stale.stderr)]).toEqual([
      1,
      expect.stringMatching(/^401 \{"outcome":"rejected","reason":"stale"/),
    ]);
    expect([testEvent.code, resultLine(testEvent.stdout)]).toEqual([
      0,
      expect.stringMatching(/^202 \{"outcome":"ignored","reason":"[^"]*test event/),
    ]);
    await storedCount(2);
  }, 90_000);

  it('UP42_TEST_MODE=yes npm run worker stores the test event', async () => {
    await worker!.stop('SIGINT');
    worker = serve('UP42_TEST_MODE=yes npm run worker', { WORKER_PORT: '0' });
    ports.worker = (await listeningOn(worker)).port;
    const sent = await sh([SEND]);
    expect([sent.code, resultLine(sent.stdout)]).toEqual([
      0,
      expect.stringMatching(/^200 \{"outcome":"kept",.*"event":"job.status","status":"SUCCEEDED"/),
    ]);
    await storedCount(3);
  }, 60_000);

  it('reads the store with curl and jq', async () => {
    const exportLine = COMMANDS.find((c) => c.startsWith('export SINK_BASIC_AUTH_USER='))!;
    expect(exportLine).toBe(`export SINK_BASIC_AUTH_USER=${auth.user} SINK_BASIC_AUTH_PASS=${auth.pass}`);
    const curl = (command: string) => sh([exportLine, command]);

    const testEvents = await curl(
      `curl -s -u "$SINK_BASIC_AUTH_USER:$SINK_BASIC_AUTH_PASS" http://127.0.0.1:9888/dump-webhooks | jq 'select(.liveMode == false)'`,
    );
    expect(testEvents.code).toBe(0);
    const onlyTest = JSON.parse(testEvents.stdout) as { event: string; liveMode: boolean; body: { status: string } };
    expect(onlyTest).toMatchObject({ event: 'job.status', liveMode: false, body: { status: 'SUCCEEDED' } });

    const filtered = await curl(
      `curl -s -u "$SINK_BASIC_AUTH_USER:$SINK_BASIC_AUTH_PASS" "http://127.0.0.1:9888/dump-webhooks?event=job.status&status=failed&liveMode=true&since=0&limit=10" | jq -c 'select(.messageId) | {messageId, status: .body.status}'`,
    );
    expect(filtered.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^\{"messageId":"[0-9a-f-]{36}","status":"FAILED"\}$/),
    ]);

    const newest = await curl(
      `curl -s -u "$SINK_BASIC_AUTH_USER:$SINK_BASIC_AUTH_PASS" "http://127.0.0.1:9888/dump-webhooks?envelope=true&order=desc&limit=3" | jq -c 'select(.key) | {key, receivedAt, event, status}'`,
    );
    const rows = newest.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: number; event: string; status: string; receivedAt: string });
    expect(rows.map((r) => [r.key, r.event, r.status])).toEqual([
      [3, 'job.status', 'SUCCEEDED'],
      [2, 'order.status', 'FAILED_PERMANENTLY'],
      [1, 'job.status', 'FAILED'],
    ]);
    for (const r of rows) expect(Number.isNaN(Date.parse(r.receivedAt))).toBe(false);

    const stats = await curl(`curl -s -u "$SINK_BASIC_AUTH_USER:$SINK_BASIC_AUTH_PASS" http://127.0.0.1:9888/stats`);
    expect(JSON.parse(stats.stdout)).toMatchObject({ count: 3, lastKey: 3, maxBytes: 268435456 });
  }, 60_000);

  it('npm run replay lists, then sends, the live webhooks to the Worker; GET /hooks says no hook is on', async () => {
    const exportLine = COMMANDS.find((c) => c.startsWith('export SINK_BASIC_AUTH_USER='))!;
    const from = '--from http://127.0.0.1:9888 --to http://127.0.0.1:8787 --live';
    const listed = await sh([`npm run replay -- ${from} --dry-run`]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('key 1 job.status FAILED (dry run, not sent)');
    expect(listed.stdout).toContain('key 2 order.status FAILED_PERMANENTLY (dry run, not sent)');
    expect(listed.stdout).not.toContain('key 3');
    const sent = await sh([`npm run replay -- ${from}`]);
    expect(sent.code).toBe(0);
    // The Worker delivered both already: it answers the replays as duplicates, and keeps no second copy.
    expect(sent.stdout).toMatch(/^key 1 job\.status FAILED: 200 \{"outcome":"duplicate","duplicate":true/m);
    expect(sent.stdout).toContain('2 webhooks replayed: 2 ok, 0 failed');
    // The sink already holds both messageIds: the outbox delivers them, and the sink keeps no second copy.
    await outboxDrained();
    expect(JSON.parse((await http(`http://127.0.0.1:${ports.sink}/stats`, { auth })).text)).toMatchObject({ count: 3 });
    const hooks = await sh([
      exportLine,
      'curl -s -u "$SINK_BASIC_AUTH_USER:$SINK_BASIC_AUTH_PASS" http://127.0.0.1:9888/hooks',
    ]);
    expect(JSON.parse(hooks.stdout)).toEqual({ configured: false });
  }, 60_000);

  it('npm start | tee -a sink.log keeps the access log awk searches; the store survived the restart', async () => {
    await sink!.stop('SIGINT');
    const firstRun = sink!.output();
    expect(firstRun).toContain('sink: SIGINT, finishing requests in flight');
    sink = serve('npm start | tee -a sink.log', { SINK_PORT: String(ports.sink) });
    expect((await listeningOn(sink)).port).toBe(ports.sink);
    await sink.waitFor(/3 webhooks stored/);

    const ping = await sh(['curl -s http://127.0.0.1:9888/ping']);
    expect(ping.stdout).toBe('PONG');
    // Something for the second awk command to find.
    expect((await http(`http://127.0.0.1:${ports.sink}/dump-webhooks`)).status).toBe(401);
    await sink.waitFor(/"GET \/dump-webhooks HTTP\/1\.1" 401/);
    const log = await readFile(join(sandbox.dir, 'sink.log'), 'utf8');
    expect(log).toContain('3 webhooks stored');

    const pings = await sh([`awk '$0 ~ "GET /ping"' sink.log`]);
    expect(pings.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/ping HTTP\/1\.1" 200 4 "-" "curl\/[^"]+"$/),
    ]);
    const refused = await sh([`awk '$9 == 401' sink.log`]);
    expect(refused.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/dump-webhooks HTTP\/1\.1" 401 37 "-" "[^"]*"$/),
    ]);
    // The README's sample lines have the format of the real ones.
    const sample = block('text', '"GET /ping HTTP/1.1" 200 4').split('\n');
    expect(sample[0]).toMatch(
      /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/ping HTTP\/1\.1" 200 4 "-" "axios\/[\d.]+"$/,
    );
    expect(sample[1]).toMatch(
      /^127\.0\.0\.1 - relay \[[^\]]+\] "POST \/receive-webhooks HTTP\/1\.1" 200 35 "-" "axios\/[\d.]+"$/,
    );
    // The samples show the Pipedream steps' axios; the Worker's fetch, which delivered here, names no agent.
    expect(firstRun).toMatch(/^127\.0\.0\.1 - relay \[[^\]]+\] "POST \/receive-webhooks HTTP\/1\.1" 200 35 "-" "-"$/m);
  }, 60_000);

  it('DELETE clears the store with the reply the README shows', async () => {
    const exportLine = COMMANDS.find((c) => c.startsWith('export SINK_BASIC_AUTH_USER='))!;
    const cleared = await sh([
      exportLine,
      `curl -s -u "$SINK_BASIC_AUTH_USER:$SINK_BASIC_AUTH_PASS" -X DELETE http://127.0.0.1:9888/dump-webhooks`,
    ]);
    expect(cleared.stdout).toBe(`${block('text', '"msg": "deleted').trim()}\n`);
    expect(JSON.parse((await http(`http://127.0.0.1:${ports.sink}/stats`, { auth })).text)).toMatchObject({
      count: 0,
      lastKey: 0,
    });
  });

  it("the Worker's outbox: a live event kept and delivered, the README's GET /outbox, GET /check", async () => {
    const before = (
      JSON.parse((await http(`http://127.0.0.1:${ports.sink}/stats`, { auth })).text) as { count: number }
    ).count;
    const sent = await sh([`${SEND} --live --event job.status --status FAILED`]);
    expect([sent.code, resultLine(sent.stdout)]).toEqual([0, expect.stringMatching(/^200 \{"outcome":"kept"/)]);
    const exportLine = COMMANDS.find((c) => c.startsWith('export SINK_BASIC_AUTH_USER='))!;
    const outboxCommand = COMMANDS.find((c) => c.includes('http://127.0.0.1:8787/outbox'))!;
    for (let tries = 0; ; tries++) {
      const shownOutbox = await sh([exportLine, outboxCommand]);
      const view = JSON.parse(shownOutbox.stdout) as { waiting: number; delivered: number };
      if (view.waiting === 0) {
        expect(view).toMatchObject({ waiting: 0, failed: 0, sink: { away: false } });
        expect(view.delivered).toBeGreaterThanOrEqual(1);
        break;
      }
      if (tries > 100) throw new Error(`the outbox still waits: ${shownOutbox.stdout}`);
    }
    expect(JSON.parse((await http(`http://127.0.0.1:${ports.sink}/stats`, { auth })).text)).toMatchObject({
      count: before + 1,
    });
    expect((await http(`http://127.0.0.1:${ports.worker}/check`)).status).toBe(200);
  }, 90_000);

  it('npm run up42 -- connect and doctor: from UP42 credentials to the verified chain the README shows', async () => {
    const fake = await startFakeUp42();
    try {
      fake.deliverTests = true;
      const account = dotenvPairs(block('dotenv', 'UP42_USERNAME='));
      expect(account.map(([k]) => k)).toEqual(['UP42_USERNAME', 'UP42_PASSWORD']);
      // The account the README puts in .env is the fake UP42's, and its API is on loopback.
      const up42 = {
        UP42_USERNAME: fake.username,
        UP42_PASSWORD: fake.password,
        UP42_AUTH_URL: fake.url,
        UP42_API_URL: fake.url,
      };
      const connect = await sh(['npm run up42 -- connect --url http://127.0.0.1:8787'], up42);
      expect(connect.stderr).not.toMatch(/FAILED|Error/);
      expect(connect.code).toBe(0);
      const printed = connect.stdout.split('\n').filter((l) => /^(secret|UP42|the Worker|sink):? /.test(l));
      const shown = block('text', 'secret: UP42_WEBHOOK_SECRET is set')
        .split('\n')
        .map((l) => onPorts(l, ports));
      const webhookId = [...fake.webhooks.keys()][0]!;
      expect(printed).toEqual([
        shown[0],
        shown[1]!.replace('9d3c…', webhookId),
        shown[2],
        // The Worker here runs in test mode (above), so it takes the test event rather than ignoring it.
        // Either test event (job.status or order.status) may be the newest report.
        expect.stringMatching(
          /^the Worker verified (job|order)\.status \w+ \(test event\): signed content-type, date, content-digest; sha-256 content-digest matched the raw body, then /,
        ),
        shown[4],
      ]);
      const doctor = await sh(['npm run up42 -- doctor --url http://127.0.0.1:8787'], up42);
      expect(doctor.code).toBe(0);
      expect(fake.webhooks.size).toBe(1);
    } finally {
      await fake.close();
    }
  }, 90_000);

  it('npm run build:pipedream writes the files the README pastes and publishes; 64 hex digits of secret', async () => {
    const built = await sh(['npm run build:pipedream']);
    expect(built.code).toBe(0);
    const shown = block('text', 'dist/pipedream/steps/validate.mjs')
      .split('\n')
      .map((l) => l.split(/\s+/)[0]);
    const printed = built.stdout.split('\n').filter((l) => l.startsWith('dist/'));
    expect(printed.map((l) => l.split(/\s+/)[0])).toEqual(shown);
    for (const l of printed) expect(l).toMatch(/^\S+ {2}\d+\.\d KiB$/);
    const named = [...[...PAGES.values()].join('\n').matchAll(/`(dist\/pipedream\/[^`]+\.mjs)`/g)].map((m) => m[1]!);
    for (const path of [...shown.map((p) => p!), ...named]) {
      expect((await stat(join(sandbox.dir, path))).isFile()).toBe(true);
    }
    for (const command of COMMANDS.filter((c) => c.startsWith('pd publish '))) {
      expect((await stat(join(sandbox.dir, command.slice('pd publish '.length)))).isFile()).toBe(true);
    }

    const secret = await sh([`node -e "console.log(require('node:crypto').randomBytes(32).toString('hex'))"`]);
    expect(secret.stdout).toMatch(/^[0-9a-f]{64}\n$/);
  }, 60_000);
});

describe('README.md and docs/, checked against the code', () => {
  it('README.md is under 300 lines, and its Contents links every section and every docs/ page', () => {
    expect(README.split('\n').length).toBeLessThan(300);
    const contents = section(README, '## Contents');
    const linked = relativeLinks(contents);
    const sections = headings(README)
      .filter((h) => h.level === 2 && h.text !== 'Contents')
      .map((h) => `#${[...anchors(`## ${h.text}`)][0]!}`);
    expect(sections.length).toBeGreaterThanOrEqual(5);
    for (const anchor of sections) expect(linked).toContain(anchor);
    for (const page of [...PAGES.keys()].filter((p) => p.startsWith('docs/'))) expect(linked).toContain(page);
  });

  it('every relative link of README.md and docs/ points at a file, and at a heading of it when it names one', () => {
    const broken: string[] = [];
    for (const [page, text] of PAGES) {
      for (const link of relativeLinks(text)) {
        const [file, anchor] = link.split('#') as [string, string | undefined];
        const target = file === '' ? page : normalize(join(dirname(page), file));
        if (!existsSync(join(REPO_ROOT, target))) broken.push(`${page}: ${link} (no file ${target})`);
        else if (anchor !== undefined && !anchors(PAGES.get(target) ?? '').has(anchor))
          broken.push(`${page}: ${link} (no heading #${anchor} in ${target})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the Pipedream variables table is the forwarder part of the variable table, aliases included', () => {
    const rows = tableRows(sectionOf('## 3. Set the Pipedream environment variables'));
    const code = (v: string | undefined) => (v === undefined ? '—' : `\`${v}\``);
    const expected = ENV_VARS.filter((v) => (v.parts as readonly string[]).includes('forwarder')).map((v) => [
      code(v.name),
      code('alias' in v ? v.alias : undefined),
      'secret' in v && v.secret ? 'yes' : 'no',
      code('default' in v ? v.default : undefined),
      v.description,
    ]);
    expect(rows).toEqual(expected);
  });

  it('every variable in its .env blocks exists, under the name .env.example uses', async () => {
    const example = await readFile(join(REPO_ROOT, '.env.example'), 'utf8');
    const blocks = [...PAGES.values()].flatMap((text) => fencedBlocks(text)).filter((b) => b.lang === 'dotenv');
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const b of blocks) {
      for (const [key] of dotenvPairs(b.body)) {
        expect(ENV_VARS.map((v) => v.name)).toContain(key);
        expect(example).toMatch(new RegExp(`^${key}=`, 'm'));
      }
    }
  });

  it("quotes the tunnel's lines as the sink prints them", () => {
    const base = parseSinkConfig({
      SINK_BASIC_AUTH_USER: 'relay',
      SINK_BASIC_AUTH_PASS: 'change-me-please',
      NGROK_AUTHTOKEN: 'token',
    });
    if (!base.ok) throw new Error(base.message);
    const local = 'http://127.0.0.1:9888';
    const off = tunnelLine(planTunnel({ ...base.value, ngrok: null }, local));
    expect(block('text', 'listening on http://127.0.0.1:9888').split('\n')).toContain(off);
    const openShown = block('text', 'tunnel open:').split('\n');
    const publicUrl = /tunnel open: (\S+) /.exec(openShown[0]!)![1]!;
    expect(openShown).toEqual(tunnelOpenLines(publicUrl, local));

    const messages = [
      tunnelLine(planTunnel({ ...base.value, auth: null }, local)),
      tunnelLine(planTunnel({ ...base.value, auth: { user: 'relay', pass: 'short' } }, local)),
      tunnelLine(planTunnel({ ...base.value, auth: { user: 'relay', pass: 'x'.repeat(129) } }, local)),
      tunnelFailedLine(new Error('authentication failed'), []),
    ];
    const quoted = [...sectionOf('## ngrok credentials').matchAll(/`(tunnel [^`]+)`/g)].map((m) => m[1]!);
    expect(quoted.length).toBe(3);
    for (const q of quoted) {
      // "…" stands for text that depends on the situation.
      const pattern = new RegExp(
        `^${q
          .split('…')
          .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}`,
      );
      expect(messages.some((m) => pattern.test(m))).toBe(true);
    }
  });

  it('names every reason a signature can be rejected for', () => {
    const reasons = [
      'no-secret',
      'missing-signature',
      'missing-signature-input',
      'malformed-signature-input',
      'malformed-signature',
      'missing-signed-header',
      'stale',
      'future',
      'digest-mismatch',
      'mac-mismatch',
      'weak-signature',
    ] as const satisfies readonly VerifyFailure[];
    // A reason added to VerifyFailure but not here is a type error, so the list cannot fall behind.
    const complete: [Exclude<VerifyFailure, (typeof reasons)[number]>] extends [never] ? true : never = true;
    expect(complete).toBe(true);
    const table = sectionOf('## Signature rejected (`401` from the Worker, a failed validate step in Pipedream)');
    for (const reason of reasons) expect(table).toContain(`\`${reason}\``);
  });

  it('the commands that need the internet at least parse, and the scripts named exist', async () => {
    const scripts = (
      JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    for (const name of [
      'start',
      'test',
      'worker',
      'build:worker',
      'send-test-event',
      'up42',
      'replay',
      'build:pipedream',
      'test:reliability',
      'bench',
      'bench:verify',
    ]) {
      expect(scripts[name]).toBeDefined();
    }
    for (const command of [...NOT_RUN.keys()].filter((c) => c.startsWith('npm run up42 -- '))) {
      // Word splitting and expansion by bash itself, as when the user runs it.
      const { stdout } = await promisify(execFile)(
        'bash',
        ['-c', `printf '%s\\0' ${command.slice('npm run up42 -- '.length)}`],
        {
          env: { PATH: process.env.PATH ?? '', UP42_WEBHOOK_SECRET: 'a-secret' },
        },
      );
      const args = stdout.split('\0').slice(0, -1);
      const parsed = parseUp42Args(args);
      expect({ command, ok: parsed.ok, message: parsed.ok ? null : parsed.message }).toEqual({
        command,
        ok: true,
        message: null,
      });
    }
  });

  it('every command of the README and docs/ was run above or is listed as one a test cannot run', () => {
    const unaccounted = COMMANDS.filter((c) => !run.has(c) && !NOT_RUN.has(c));
    expect(unaccounted).toEqual([]);
    const stale = [...NOT_RUN.keys()].filter((c) => !COMMANDS.includes(c));
    expect(stale).toEqual([]);
  });
});
