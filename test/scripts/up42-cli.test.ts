import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { MASK } from '../../scripts/up42/format.js';
import { seedWebhook, startFakeUp42, type FakeUp42 } from './support/fake-up42.js';
import { closedPort } from './support/receiver.js';
import { runScript } from './support/run-cli.js';

// npm run up42 as a real process against the fake UP42: exit codes, stdout/stderr, nothing secret printed.

let fake: FakeUp42;
let env: Record<string, string>;

beforeAll(async () => {
  fake = await startFakeUp42();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  env = { UP42_USERNAME: fake.username, UP42_PASSWORD: fake.password, UP42_AUTH_URL: fake.url, UP42_API_URL: fake.url };
});

const up42 = (args: string[], extraEnv: Record<string, string> = {}) =>
  runScript('scripts/up42.ts', ['webhooks', ...args], { ...env, ...extraEnv });

/** Nothing a run prints may contain the password, a token or an unmasked webhook secret. */
function expectNoSecrets(output: string, ...secrets: string[]) {
  for (const s of [fake.password, ...fake.issued, ...secrets]) expect(output).not.toContain(s);
  expect(output).not.toMatch(/\n\s+at /); // no stack trace
}

describe('npm run up42 -- webhooks', () => {
  it('list prints a table with the secret masked and exits 0', async () => {
    seedWebhook(fake, { id: 'wh-a', secret: 'table-secret-value-1' });
    const run = await up42(['list']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^wh-a\s+relay\s+https:\/\/eo1abc\.m\.pipedream\.net\s+job\.status\s+yes\s+\*{8}$/);
    expectNoSecrets(run.stdout + run.stderr, 'table-secret-value-1');
  });

  it('get --json --show-secret prints UP42 data, secret included', async () => {
    const a = seedWebhook(fake, { id: 'wh-a', secret: 'shown-secret-value-1' });
    const masked = await up42(['get', 'wh-a', '--json']);
    expect(masked.code).toBe(0);
    expect(JSON.parse(masked.stdout)).toEqual({ ...a, secret: MASK });
    const shown = await up42(['get', 'wh-a', '--json', '--show-secret']);
    expect(JSON.parse(shown.stdout)).toEqual(a);
  });

  it('update sends the whole webhook on PUT with one sign-in', async () => {
    const a = seedWebhook(fake, { id: 'wh-a', secret: 'kept-secret-value-2' });
    const run = await up42(['update', 'wh-a', '--events', 'job.status,order.status', '--name', 'relay-2']);
    expect(run.code).toBe(0);
    const put = fake.requests.find((r) => r.method === 'PUT')!;
    expect(JSON.parse(put.body)).toEqual({
      name: 'relay-2',
      url: a.url,
      events: ['job.status', 'order.status'],
      active: true,
      secret: 'kept-secret-value-2',
    });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /realms/public/protocol/openid-connect/token',
      `GET /workspaces/${fake.workspaceId}/webhooks/wh-a`,
      `PUT /workspaces/${fake.workspaceId}/webhooks/wh-a`,
    ]);
    expectNoSecrets(run.stdout + run.stderr, 'kept-secret-value-2');
  });

  it('create, test and delete', async () => {
    const created = await up42([
      'create',
      '--name',
      'relay',
      '--url',
      'https://eo1.m.pipedream.net',
      '--events',
      'job.status',
      '--secret',
      'created-secret-3',
      '--active',
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^id\s+wh-\d+$/m);
    expectNoSecrets(created.stdout + created.stderr, 'created-secret-3');
    const id = [...fake.webhooks.keys()][0]!;
    fake.testsSucceeded = 1;
    const tested = await up42(['test', id]);
    expect(tested).toEqual({
      code: 1,
      stdout: `webhook ${id}: testsRun 2, testsSucceeded 1\n`,
      stderr: "up42: 1 of 2 test events were not delivered to the webhook's URL\n",
    });
    const deleted = await up42(['delete', id]);
    expect(deleted).toEqual({ code: 0, stdout: `deleted webhook ${id}\n`, stderr: '' });
  });

  it.each([
    [
      'wrong credentials',
      { UP42_PASSWORD: 'not-the-password-9' },
      ['list'],
      'up42: UP42 refused to sign in (401): check UP42_USERNAME and UP42_PASSWORD: Invalid user credentials',
    ],
    [
      '404',
      {},
      ['get', 'wh-none'],
      'up42: not found (404): GET /workspaces/WS/webhooks/wh-none: Webhook wh-none not found',
    ],
    [
      '403',
      { UP42_WORKSPACE_ID: 'not-mine' },
      ['list'],
      'up42: UP42 denied access (403) to GET /workspaces/not-mine/webhooks: ' +
        'does the account belong to workspace not-mine?: Forbidden: not a member of this workspace',
    ],
  ])('%s: one line, exit 1', async (_name, extra, args, line) => {
    const run = await up42(args, extra);
    expect(run).toEqual({ code: 1, stdout: '', stderr: `${line.replace('WS', fake.workspaceId)}\n` });
    expectNoSecrets(run.stderr, 'not-the-password-9');
  });

  it('401 from the API: one line, exit 1', async () => {
    fake.forceStatus.set(`/workspaces/${fake.workspaceId}/webhooks`, 401);
    const run = await up42(['list']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^up42: UP42 did not accept the access token \(401\) for GET \/workspaces\/[^ ]+\/webhooks: .*\n$/,
    );
    expectNoSecrets(run.stderr);
  });

  it('a timeout and a network failure: one line, exit 1', async () => {
    fake.hang.add('/webhooks/events');
    const slow = await up42(['events', '--timeout', '0.5']);
    expect(slow).toEqual({ code: 1, stdout: '', stderr: `up42: timeout talking to ${fake.url}/webhooks/events\n` });
    const port = await closedPort();
    const down = await up42(['list'], { UP42_API_URL: `http://127.0.0.1:${port}` });
    expect(down).toEqual({
      code: 1,
      stdout: '',
      stderr: `up42: connection refused: http://127.0.0.1:${port}/workspaces/${fake.workspaceId}/webhooks\n`,
    });
  });

  it('missing configuration: names the variables, exit 1, no call made', async () => {
    const run = await runScript('scripts/up42.ts', ['webhooks', 'list'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'up42: configuration error: UP42_USERNAME is not set: the UP42 account to sign in with; ' +
        'UP42_PASSWORD is not set: the password of that account\n',
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('an unknown option or command: usage, exit 2', async () => {
    const run = await up42(['list', '--format', 'yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^up42: Unknown option '--format'\n\nusage: npm run up42 -- webhooks <command>/);
    const bad = await up42(['rename', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe('up42: unknown webhooks command "rename"');
    expect(fake.requests).toHaveLength(0);
  });
});
