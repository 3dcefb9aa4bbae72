import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parseUp42Args, parseEventList } from '../../scripts/up42/args.js';
import { createClient, errorText } from '../../scripts/up42/client.js';
import { mergeUpdate, runCommand } from '../../scripts/up42/commands.js';
import { parseUp42Config, type Up42Config } from '../../scripts/up42/config.js';
import { eventsTable, MASK, renderTable } from '../../scripts/up42/format.js';
import { createTokenSource, jwtClaims } from '../../scripts/up42/token.js';
import { redact } from '../../scripts/cli/text.js';
import { fakeJwt, seedWebhook, startFakeUp42, type FakeUp42 } from './support/fake-up42.js';
import { closedPort } from './support/receiver.js';

let fake: FakeUp42;
let config: Up42Config;

beforeAll(async () => {
  fake = await startFakeUp42();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  config = { username: fake.username, password: fake.password, workspaceId: null, authUrl: fake.url, apiUrl: fake.url };
});

/** Runs a command line in-process against the fake, as the CLI would. */
async function run(argv: string[], overrides: Partial<Up42Config> = {}) {
  const inv = parseUp42Args(argv);
  if (!inv.ok) throw new Error(inv.message);
  return runCommand(inv.value, createClient({ ...config, ...overrides }, { timeoutMs: inv.value.timeoutMs }));
}
const apiRequests = () => fake.requests.filter((r) => !r.path.startsWith('/realms/'));

describe('parseUp42Config', () => {
  it('reads credentials, defaults the URLs to UP42 and the workspace to the token', () => {
    expect(parseUp42Config({ UP42_USERNAME: 'u', UP42_PASSWORD: 'p' })).toEqual({
      ok: true,
      value: {
        username: 'u',
        password: 'p',
        workspaceId: null,
        authUrl: 'https://auth.up42.com',
        apiUrl: 'https://api.up42.com',
      },
    });
    expect(
      parseUp42Config({
        UP42_USERNAME: 'u',
        UP42_PASSWORD: 'p',
        UP42_WORKSPACE_ID: 'ws1',
        UP42_API_URL: 'http://127.0.0.1:1/',
      }),
    ).toMatchObject({
      ok: true,
      value: { workspaceId: 'ws1', apiUrl: 'http://127.0.0.1:1' },
    });
  });
  it('names every variable to fix', () => {
    const r = parseUp42Config({ UP42_AUTH_URL: 'ftp://x' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/UP42_USERNAME is not set.*UP42_PASSWORD is not set.*UP42_AUTH_URL must be/);
  });
});

describe('parseUp42Args', () => {
  it('parses each command', () => {
    expect(parseUp42Args(['webhooks', 'list', '--json'])).toMatchObject({
      ok: true,
      value: { command: { kind: 'list' }, json: true, showSecret: false },
    });
    expect(
      parseUp42Args([
        'webhooks',
        'create',
        '--name',
        'n',
        '--url',
        'https://h/x',
        '--events',
        'job.status, order.status',
        '--secret',
        's',
        '--active',
      ]),
    ).toMatchObject({
      ok: true,
      value: {
        command: {
          kind: 'create',
          name: 'n',
          url: 'https://h/x',
          events: ['job.status', 'order.status'],
          secret: 's',
          active: true,
        },
      },
    });
    expect(parseUp42Args(['webhooks', 'update', 'wh-1', '--inactive'])).toMatchObject({
      ok: true,
      value: { command: { kind: 'update', id: 'wh-1', changes: { active: false } } },
    });
    expect(parseUp42Args(['webhooks', 'test', 'wh-1', '--timeout', '3'])).toMatchObject({
      ok: true,
      value: { command: { kind: 'test', id: 'wh-1' }, timeoutMs: 3000 },
    });
    expect(parseUp42Args(['--help'])).toMatchObject({ ok: false, reason: 'help' });
  });
  it.each([
    [['webhooks', 'list', '--bogus'], /Unknown option '--bogus'/],
    [['hooks', 'list'], /unknown command "hooks"/],
    [['webhooks', 'purge'], /unknown webhooks command "purge"/],
    [['webhooks', 'get'], /get needs the webhook ID/],
    [['webhooks', 'get', 'a', 'b'], /one webhook ID/],
    [['webhooks', 'get', '../x'], /is not a webhook ID/],
    [['webhooks', 'list', '--name', 'x'], /list does not take --name/],
    [['webhooks', 'create', '--name', 'x'], /create needs --url; create needs --events/],
    [['webhooks', 'update', 'wh-1'], /update needs at least one of/],
    [['webhooks', 'update', 'wh-1', '--active', '--inactive'], /contradict/],
    [['webhooks', 'update', 'wh-1', '--events', ','], /--events must be/],
  ])('rejects %j', (argv, message) => {
    const r = parseUp42Args(argv);
    expect(r).toMatchObject({ ok: false, reason: 'usage' });
    expect(!r.ok && r.message).toMatch(message);
  });
  it('splits event lists', () => {
    expect(parseEventList('job.status,,order.status,job.status')).toEqual(['job.status', 'order.status']);
    expect(parseEventList('job status')).toBeNull();
  });
});

describe('the token', () => {
  it('is requested with the password grant, form-encoded, as client up42-sdk', async () => {
    const tokens = createTokenSource(config, { timeoutMs: 5000 });
    const token = await tokens.accessToken();
    expect(token).toEqual({ ok: true, value: fake.issued[0] });
    const [req] = fake.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/realms/public/protocol/openid-connect/token' });
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(req!.body))).toEqual({
      grant_type: 'password',
      username: fake.username,
      password: fake.password,
      client_id: 'up42-sdk',
    });
  });

  it('is reused until it expires, then renewed; concurrent callers share one sign-in', async () => {
    let clock = 1_000_000;
    fake.expiresIn = 300;
    const tokens = createTokenSource(config, { timeoutMs: 5000, now: () => clock });
    const [a, b] = await Promise.all([tokens.accessToken(), tokens.accessToken()]);
    expect(a).toEqual(b);
    clock += 200;
    expect(await tokens.accessToken()).toEqual(a);
    expect(fake.requests).toHaveLength(1);
    clock += 80; // 280 s after sign-in: within 30 s of expiry, so renewed before it can expire in flight
    const c = await tokens.accessToken();
    expect(c.ok && a.ok && c.value !== a.value).toBe(true);
    expect(fake.requests).toHaveLength(2);
  });

  it('names the workspace by its subject unless UP42_WORKSPACE_ID is set', async () => {
    expect(await createTokenSource(config, { timeoutMs: 5000 }).workspaceId()).toEqual({
      ok: true,
      value: fake.workspaceId,
    });
    expect(await createTokenSource({ ...config, workspaceId: 'other' }, { timeoutMs: 5000 }).workspaceId()).toEqual({
      ok: true,
      value: 'other',
    });
    expect(jwtClaims(fakeJwt({ sub: 'x' }))).toEqual({ sub: 'x' });
    expect(jwtClaims('opaque')).toBeNull();
  });

  it('reports wrong credentials without echoing them', async () => {
    const r = await createTokenSource({ ...config, password: 'wrong-password-123' }, { timeoutMs: 5000 }).accessToken();
    expect(r).toEqual({
      ok: false,
      reason: 'credentials',
      message: 'UP42 refused to sign in (401): check UP42_USERNAME and UP42_PASSWORD: Invalid user credentials',
    });
  });
});

describe('webhooks commands against the fake UP42', () => {
  it('events: GET /webhooks/events with the bearer token', async () => {
    const r = await run(['webhooks', 'events']);
    expect(r.ok && r.value.stdout).toBe('EVENT         DETAILS\njob.status    -\norder.status  -');
    const [req] = apiRequests();
    expect(req).toMatchObject({ method: 'GET', path: '/webhooks/events' });
    expect(req!.headers.authorization).toBe(`Bearer ${fake.issued.at(-1)}`);
    const j = await run(['webhooks', 'events', '--json']);
    expect(j.ok && JSON.parse(j.value.stdout)).toEqual([{ name: 'job.status' }, { name: 'order.status' }]);
  });

  it('list: a table with secrets masked, or all of them with --show-secret', async () => {
    const a = seedWebhook(fake, { id: 'wh-a', name: 'relay', secret: 'first-secret-value-000' });
    seedWebhook(fake, {
      id: 'wh-b',
      name: 'backup',
      url: 'https://b.example/hook',
      events: ['job.status', 'order.status'],
      active: false,
      secret: null,
    });
    const r = await run(['webhooks', 'list']);
    expect(r.ok).toBe(true);
    const lines = r.ok ? r.value.stdout.split('\n') : [];
    expect(lines[0]).toMatch(/^ID\s+NAME\s+URL\s+EVENTS\s+ACTIVE\s+SECRET$/);
    expect(lines[1]).toMatch(
      new RegExp(`^wh-a\\s+relay\\s+${a.url.replace(/\./g, '\\.')}\\s+job\\.status\\s+yes\\s+\\*{8}$`),
    );
    expect(lines[2]).toMatch(/^wh-b\s+backup\s+https:\/\/b\.example\/hook\s+job\.status,order\.status\s+no\s+-$/);
    expect(r.ok && r.value.stdout).not.toContain('first-secret-value-000');
    expect(apiRequests()[0]).toMatchObject({ method: 'GET', path: `/workspaces/${fake.workspaceId}/webhooks` });

    const shown = await run(['webhooks', 'list', '--show-secret']);
    expect(shown.ok && shown.value.stdout).toContain('first-secret-value-000');
  });

  it('list --json prints what UP42 returned, the secret masked unless --show-secret', async () => {
    const a = seedWebhook(fake, { id: 'wh-a', secret: 'first-secret-value-000' });
    const r = await run(['webhooks', 'list', '--json']);
    expect(r.ok && JSON.parse(r.value.stdout)).toEqual([{ ...a, secret: MASK }]);
    const shown = await run(['webhooks', 'list', '--json', '--show-secret']);
    expect(shown.ok && JSON.parse(shown.value.stdout)).toEqual([a]);
    fake.webhooks.clear();
    const empty = await run(['webhooks', 'list']);
    expect(empty.ok && empty.value.stdout).toBe('no webhooks in this workspace');
  });

  it('get: one webhook as field/value lines', async () => {
    const a = seedWebhook(fake, { id: 'wh-a' });
    const r = await run(['webhooks', 'get', 'wh-a']);
    expect(r.ok && r.value.stdout.split('\n')).toEqual([
      'id         wh-a',
      'name       relay',
      `url        ${a.url}`,
      'events     job.status',
      'active     yes',
      `secret     ${MASK}`,
      `createdAt  ${a.createdAt}`,
      `updatedAt  ${a.updatedAt}`,
    ]);
    expect(apiRequests()[0]).toMatchObject({ method: 'GET', path: `/workspaces/${fake.workspaceId}/webhooks/wh-a` });
  });

  it('create: POSTs name, url, events, active and secret', async () => {
    const r = await run([
      'webhooks',
      'create',
      '--name',
      'relay',
      '--url',
      'https://eo1.m.pipedream.net',
      '--events',
      'job.status,order.status',
      '--secret',
      'new-secret-42',
      '--active',
      '--json',
    ]);
    const [req] = apiRequests();
    expect(req).toMatchObject({ method: 'POST', path: `/workspaces/${fake.workspaceId}/webhooks` });
    expect(req!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req!.body)).toEqual({
      name: 'relay',
      url: 'https://eo1.m.pipedream.net',
      events: ['job.status', 'order.status'],
      active: true,
      secret: 'new-secret-42',
    });
    expect(r.ok && JSON.parse(r.value.stdout)).toMatchObject({ id: 'wh-1', name: 'relay', active: true, secret: MASK });
    expect(fake.webhooks.get('wh-1')!.secret).toBe('new-secret-42');
    const inactive = await run([
      'webhooks',
      'create',
      '--name',
      'n',
      '--url',
      'https://h.example/',
      '--events',
      'job.status',
    ]);
    expect(inactive.ok).toBe(true);
    expect(JSON.parse(apiRequests()[1]!.body)).toEqual({
      name: 'n',
      url: 'https://h.example/',
      events: ['job.status'],
      active: false,
    });
  });

  it('update: reads the webhook and PUTs all of it with only the given fields changed', async () => {
    const a = seedWebhook(fake, { id: 'wh-a', secret: 'kept-secret-value-1' });
    const r = await run(['webhooks', 'update', 'wh-a', '--url', 'https://new.m.pipedream.net', '--inactive']);
    expect(r.ok).toBe(true);
    const [get, put] = apiRequests();
    expect(get).toMatchObject({ method: 'GET', path: `/workspaces/${fake.workspaceId}/webhooks/wh-a` });
    expect(put).toMatchObject({ method: 'PUT', path: `/workspaces/${fake.workspaceId}/webhooks/wh-a` });
    expect(JSON.parse(put!.body)).toEqual({
      name: a.name,
      url: 'https://new.m.pipedream.net',
      events: a.events,
      active: false,
      secret: 'kept-secret-value-1',
    });
    expect(put!.headers.authorization).toBe(get!.headers.authorization);
    expect(fake.requests.filter((q) => q.path.startsWith('/realms/'))).toHaveLength(1); // one sign-in for both calls
    expect(r.ok && r.value.stdout).toContain('url        https://new.m.pipedream.net');
    expect(r.ok && r.value.stdout).not.toContain('kept-secret-value-1');

    fake.requests.length = 0;
    await run([
      'webhooks',
      'update',
      'wh-a',
      '--name',
      'renamed',
      '--events',
      'order.status',
      '--secret',
      'rotated-secret-2',
      '--active',
    ]);
    expect(JSON.parse(apiRequests()[1]!.body)).toEqual({
      name: 'renamed',
      url: 'https://new.m.pipedream.net',
      events: ['order.status'],
      active: true,
      secret: 'rotated-secret-2',
    });
  });

  it('mergeUpdate refuses to guess fields UP42 did not return', () => {
    expect(mergeUpdate({ id: 'x', url: 'https://h/' }, { active: true })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/no valid name, events: pass --name, --events/),
    });
    expect(mergeUpdate({ name: 'n', url: 'u', events: [], active: true }, {})).toEqual({
      ok: true,
      value: { name: 'n', url: 'u', events: [], active: true },
    });
  });

  it('delete: DELETE, then a confirmation or JSON', async () => {
    seedWebhook(fake, { id: 'wh-a' });
    const r = await run(['webhooks', 'delete', 'wh-a']);
    expect(r).toEqual({ ok: true, value: { stdout: 'deleted webhook wh-a' } });
    expect(apiRequests()[0]).toMatchObject({ method: 'DELETE', path: `/workspaces/${fake.workspaceId}/webhooks/wh-a` });
    expect(fake.webhooks.size).toBe(0);
    seedWebhook(fake, { id: 'wh-b' });
    const j = await run(['webhooks', 'delete', 'wh-b', '--json']);
    expect(j.ok && JSON.parse(j.value.stdout)).toEqual({ id: 'wh-b', deleted: true });
  });

  it('test: POST .../tests, prints testsRun and testsSucceeded, flags undelivered tests', async () => {
    seedWebhook(fake, { id: 'wh-a' });
    const r = await run(['webhooks', 'test', 'wh-a']);
    expect(r).toEqual({ ok: true, value: { stdout: 'webhook wh-a: testsRun 2, testsSucceeded 2' } });
    expect(apiRequests()[0]).toMatchObject({
      method: 'POST',
      path: `/workspaces/${fake.workspaceId}/webhooks/wh-a/tests`,
    });
    fake.testsSucceeded = 1;
    const partial = await run(['webhooks', 'test', 'wh-a', '--json']);
    expect(partial).toEqual({
      ok: true,
      value: {
        stdout: JSON.stringify({ testsRun: 2, testsSucceeded: 1 }, null, 2),
        failed: "1 of 2 test events were not delivered to the webhook's URL",
      },
    });
  });

  it('uses UP42_WORKSPACE_ID when set', async () => {
    const r = await run(['webhooks', 'list'], { workspaceId: 'someone-elses' });
    expect(r).toMatchObject({ ok: false, reason: 'forbidden' });
    expect(apiRequests()[0]!.path).toBe('/workspaces/someone-elses/webhooks');
    expect(!r.ok && r.message).toBe(
      'UP42 denied access (403) to GET /workspaces/someone-elses/webhooks: ' +
        'does the account belong to workspace someone-elses?: Forbidden: not a member of this workspace',
    );
  });
});

describe('errors', () => {
  it('404 names what was not found', async () => {
    const r = await run(['webhooks', 'get', 'wh-missing']);
    expect(r).toEqual({
      ok: false,
      reason: 'not-found',
      message: `not found (404): GET /workspaces/${fake.workspaceId}/webhooks/wh-missing: Webhook wh-missing not found`,
    });
    const u = await run(['webhooks', 'update', 'wh-missing', '--active']);
    expect(u).toMatchObject({ ok: false, reason: 'not-found' });
    expect(apiRequests().filter((q) => q.method === 'PUT')).toHaveLength(0);
  });

  it('401 from the API', async () => {
    fake.forceStatus.set(`/workspaces/${fake.workspaceId}/webhooks`, 401);
    const r = await run(['webhooks', 'list']);
    expect(r).toEqual({
      ok: false,
      reason: 'unauthorized',
      message:
        `UP42 did not accept the access token (401) for GET /workspaces/${fake.workspaceId}/webhooks: ` +
        `forced 401 for /workspaces/${fake.workspaceId}/webhooks`,
    });
  });

  it('5xx and an error inside a 2xx envelope', async () => {
    fake.forceStatus.set('/webhooks/events', 502);
    expect(await run(['webhooks', 'events'])).toMatchObject({
      ok: false,
      reason: 'api',
      message: 'UP42 answered 502 to GET /webhooks/events: forced 502 for /webhooks/events',
    });
    expect(errorText({ data: null, error: { code: 'X', message: 'went wrong' } })).toBe('went wrong');
    expect(errorText({ title: 'Bad', detail: 'worse' })).toBe('worse');
  });

  it('a timeout and a refused connection are one line each', async () => {
    fake.hang.add('/webhooks/events');
    const slow = await run(['webhooks', 'events', '--timeout', '0.3']);
    expect(slow).toEqual({ ok: false, reason: 'timeout', message: `timeout talking to ${fake.url}/webhooks/events` });
    const port = await closedPort();
    const down = await run(['webhooks', 'list'], { authUrl: `http://127.0.0.1:${port}` });
    expect(down).toEqual({
      ok: false,
      reason: 'network',
      message: `connection refused: http://127.0.0.1:${port}/realms/public/protocol/openid-connect/token`,
    });
  });

  it('redacts tokens, bearer values and known secrets from messages', () => {
    const jwt = fakeJwt({ sub: 'x' });
    expect(
      redact(`bad token ${jwt} and Authorization: Bearer abc.def and password=hunter22 and "secret":"s1"`, []),
    ).toBe('bad token [redacted] and Authorization: Bearer [redacted] and password=[redacted] and "secret":[redacted]');
    expect(redact('the secret my-secret-value leaked', ['my-secret-value'])).toBe('the secret [redacted] leaked');
    expect(redact(`workspace 3c2d1e0f-9a8b-4c7d-8e6f-5a4b3c2d1e0f`)).toBe(
      'workspace 3c2d1e0f-9a8b-4c7d-8e6f-5a4b3c2d1e0f',
    );
  });

  it('an API error that echoes the token or password does not print it', async () => {
    fake.echoCredentials = true;
    const r = await run(['webhooks', 'list']);
    expect(r).toMatchObject({ ok: false, reason: 'api' });
    const message = r.ok ? '' : r.message;
    expect(message).toMatch(
      new RegExp(
        /^UP42 answered 400 to GET \/workspaces\/[^ ]+\/webhooks: /.source +
          /rejected Bearer \[redacted\] \(user ada@example.com, password \[redacted\]\)$/.source,
      ),
    );
    expect(message).not.toContain(fake.issued.at(-1)!);
    expect(message).not.toContain(fake.password);
  });
});

describe('eventsTable', () => {
  it('shows names given as strings, objects or keys', () => {
    expect(eventsTable(['job.status'])).toBe('EVENT       DETAILS\njob.status  -');
    expect(eventsTable([{ name: 'order.status', description: 'Order\nchanged' }])).toBe(
      'EVENT         DETAILS\norder.status  {"description":"Order\\nchanged"}',
    );
    expect(eventsTable({ 'job.status': { description: 'x' } })).toBe(
      'EVENT       DETAILS\njob.status  {"description":"x"}',
    );
    expect(eventsTable(null)).toBe('no webhook events');
  });
});

describe('renderTable', () => {
  it('pads columns to the widest cell', () => {
    expect(
      renderTable(
        ['A', 'BB'],
        [
          ['xxx', 'y'],
          ['z', 'wwww'],
        ],
      ),
    ).toBe('A    BB\nxxx  y\nz    wwww');
  });
});
