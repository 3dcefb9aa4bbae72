import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { SinkConfig } from '../../shared/config.js';
import { parseSinkConfig } from '../../shared/config.js';
import {
  describeTunnelError,
  planTunnel,
  tunnelFailedLine,
  tunnelOpenLines,
  tunnelSecrets,
  type TunnelOptions,
} from '../../sink/tunnel-plan.js';
import { openTunnel, type ConnectTunnel, type TunnelListener } from '../../sink/tunnel.js';

const execFileAsync = promisify(execFile);

const TOKEN = '2abcDEFtokenXYZ_0123456789secret';
const USER = 'relay';
const PASS = 'p@ss:w0rd-long';
const LOCAL = 'http://127.0.0.1:9888';

function config(overrides: Partial<SinkConfig> = {}): SinkConfig {
  return {
    host: '127.0.0.1',
    port: 9888,
    dataDir: '/tmp/unused',
    store: 'memory',
    maxBytes: 1024,
    maxBodyBytes: 1024,
    hook: null,
    maxEventStreams: 256,
    auth: { user: USER, pass: PASS },
    ngrok: { authtoken: TOKEN },
    allowedHosts: [],
    maxConnections: 256,
    maxFailedLogins: 10,
    ...overrides,
  };
}

const repeat = (n: number) => 'x'.repeat(n);

describe('planTunnel: whether a tunnel opens', () => {
  const cases: Array<{ name: string; cfg: SinkConfig; kind: 'disabled' | 'refused' | 'open'; reason?: string }> = [
    { name: 'no token, no credentials', cfg: config({ ngrok: null, auth: null }), kind: 'disabled' },
    { name: 'no token, with credentials', cfg: config({ ngrok: null }), kind: 'disabled' },
    {
      name: 'no token, short password (the tunnel is off anyway)',
      cfg: config({ ngrok: null, auth: { user: USER, pass: 'short' } }),
      kind: 'disabled',
    },
    { name: 'token without credentials', cfg: config({ auth: null }), kind: 'refused', reason: 'no-credentials' },
    {
      name: 'password of 7 characters',
      cfg: config({ auth: { user: USER, pass: repeat(7) } }),
      kind: 'refused',
      reason: 'password-length',
    },
    {
      name: 'password of 1 character',
      cfg: config({ auth: { user: USER, pass: 'x' } }),
      kind: 'refused',
      reason: 'password-length',
    },
    { name: 'password of 8 characters', cfg: config({ auth: { user: USER, pass: repeat(8) } }), kind: 'open' },
    { name: 'password of 128 characters', cfg: config({ auth: { user: USER, pass: repeat(128) } }), kind: 'open' },
    {
      name: 'password of 129 characters',
      cfg: config({ auth: { user: USER, pass: repeat(129) } }),
      kind: 'refused',
      reason: 'password-length',
    },
    // 8 characters that are 16 UTF-16 units: counted as characters, as the message says.
    {
      name: 'password of 8 astral characters',
      cfg: config({ auth: { user: USER, pass: '😀'.repeat(8) } }),
      kind: 'open',
    },
    {
      name: 'password of 7 astral characters',
      cfg: config({ auth: { user: USER, pass: '😀'.repeat(7) } }),
      kind: 'refused',
      reason: 'password-length',
    },
    {
      name: 'user with a colon',
      cfg: config({ auth: { user: 'a:b', pass: PASS } }),
      kind: 'refused',
      reason: 'bad-user',
    },
  ];
  it.each(cases)('$name → $kind', ({ cfg, kind, reason }) => {
    const plan = planTunnel(cfg, LOCAL);
    expect(plan.kind).toBe(kind);
    if (plan.kind === 'refused') expect(plan.reason).toBe(reason);
  });
});

describe('planTunnel: messages', () => {
  it('without a token, one line saying how to enable the tunnel', () => {
    const plan = planTunnel(config({ ngrok: null, auth: null }), LOCAL);
    if (plan.kind !== 'disabled') throw new Error(`expected disabled, got ${plan.kind}`);
    expect(plan.message).not.toContain('\n');
    for (const name of ['NGROK_AUTHTOKEN', 'SINK_BASIC_AUTH_USER', 'SINK_BASIC_AUTH_PASS', '.env', LOCAL]) {
      expect(plan.message).toContain(name);
    }
    expect(plan.message).not.toContain(PASS);
  });

  it('without a token, names only the variables still unset', () => {
    const withAuth = planTunnel(config({ ngrok: null }), LOCAL);
    expect(withAuth.kind === 'disabled' && withAuth.message).toMatch(/, set NGROK_AUTHTOKEN in \.env$/);
    const bare = planTunnel(config({ ngrok: null, auth: null }), LOCAL);
    expect(bare.kind === 'disabled' && bare.message).toMatch(
      /, set NGROK_AUTHTOKEN, SINK_BASIC_AUTH_USER and SINK_BASIC_AUTH_PASS in \.env$/,
    );
  });

  it('token without credentials: refused, naming the variables to set', () => {
    const plan = planTunnel(config({ auth: null }), LOCAL);
    if (plan.kind !== 'refused') throw new Error(`expected refused, got ${plan.kind}`);
    expect(plan.message).toMatch(/^tunnel refused: /);
    expect(plan.message).toContain('SINK_BASIC_AUTH_USER');
    expect(plan.message).toContain('SINK_BASIC_AUTH_PASS');
    expect(plan.message).toContain('basic auth');
    expect(plan.message).toContain(LOCAL);
    expect(plan.message).not.toContain(TOKEN);
  });

  it.each([
    ['too short', 'abcdefg'],
    ['too long', `${'L'.repeat(120)}tail-129`.padEnd(129, 'z')],
  ])('password %s: says ngrok requires 8 to 128 characters, without the password', (which, pass) => {
    const plan = planTunnel(config({ auth: { user: USER, pass } }), LOCAL);
    if (plan.kind !== 'refused') throw new Error(`expected refused, got ${plan.kind}`);
    expect(plan.message).toContain('ngrok requires a basic-auth password of 8 to 128 characters');
    expect(plan.message).toContain(`SINK_BASIC_AUTH_PASS is ${which}`);
    expect(plan.message).not.toContain(pass);
    expect(plan.message).not.toContain(TOKEN);
    expect(plan.message).not.toContain('\n');
  });
});

describe('planTunnel: the options given to forward()', () => {
  it('carries token, basic auth, http and the local address, and nothing else', () => {
    const plan = planTunnel(config(), LOCAL);
    expect(plan).toEqual({
      kind: 'open',
      options: { proto: 'http', addr: '127.0.0.1:9888', authtoken: TOKEN, basic_auth: [`${USER}:${PASS}`] },
      target: 'http://127.0.0.1:9888',
    });
  });

  it.each([
    ['my-sink.ngrok-free.app', 'my-sink.ngrok-free.app'],
    ['https://my-sink.ngrok-free.app/', 'my-sink.ngrok-free.app'],
    ['webhooks.example.com', 'webhooks.example.com'],
  ])('NGROK_DOMAIN %s → domain %s', (domain, expected) => {
    const plan = planTunnel(config({ ngrok: { authtoken: TOKEN, domain } }), LOCAL);
    if (plan.kind !== 'open') throw new Error(`expected open, got ${plan.kind}`);
    expect(plan.options.domain).toBe(expected);
  });

  const addresses: Array<[string, string, number, string, string]> = [
    // [case, config host, config port, URL the server reports, expected addr]
    ['loopback', '127.0.0.1', 9888, 'http://127.0.0.1:9888', '127.0.0.1:9888'],
    ['all IPv4 interfaces', '0.0.0.0', 9888, 'http://0.0.0.0:9888', '127.0.0.1:9888'],
    ['all IPv6 interfaces', '::', 9888, 'http://[::]:9888', '[::1]:9888'],
    ['IPv6 loopback', '::1', 7000, 'http://[::1]:7000', '[::1]:7000'],
    ['localhost', 'localhost', 9999, 'http://localhost:9999', 'localhost:9999'],
    ['port 0: the bound port from the URL wins', '127.0.0.1', 0, 'http://127.0.0.1:41234', '127.0.0.1:41234'],
    ['unparsable URL: configured host and port', '0.0.0.0', 9888, 'not a url', '127.0.0.1:9888'],
    ['unparsable URL, IPv6 host', '::', 9888, '', '[::1]:9888'],
  ];
  it.each(addresses)('%s: %s:%d / %s → %s', (_name, host, port, localUrl, expected) => {
    const plan = planTunnel(config({ host, port }), localUrl);
    if (plan.kind !== 'open') throw new Error(`expected open, got ${plan.kind}`);
    expect(plan.options.addr).toBe(expected);
    expect(plan.target).toBe(`http://${expected}`);
  });

  it('refuses when there is no port to forward to', () => {
    const plan = planTunnel(config({ port: 0 }), 'not a url');
    expect(plan.kind).toBe('refused');
    if (plan.kind === 'refused') expect(plan.reason).toBe('no-local-address');
  });

  it('follows the configuration parsed from the environment', () => {
    const parsed = parseSinkConfig({
      NGROK_AUTHTOKEN: TOKEN,
      NGROK_DOMAIN: 'relay.ngrok-free.app',
      SINK_BASIC_AUTH_USER: USER,
      SINK_BASIC_AUTH_PASS: PASS,
      SINK_HOST: '0.0.0.0',
      SINK_PORT: '9888',
    });
    if (!parsed.ok) throw new Error(parsed.message);
    expect(planTunnel(parsed.value, 'http://0.0.0.0:9888')).toEqual({
      kind: 'open',
      options: {
        proto: 'http',
        addr: '127.0.0.1:9888',
        authtoken: TOKEN,
        basic_auth: [`${USER}:${PASS}`],
        domain: 'relay.ngrok-free.app',
      },
      target: 'http://127.0.0.1:9888',
    });
    const noToken = parseSinkConfig({ SINK_BASIC_AUTH_USER: USER, SINK_BASIC_AUTH_PASS: PASS });
    if (!noToken.ok) throw new Error(noToken.message);
    expect(planTunnel(noToken.value, LOCAL).kind).toBe('disabled');
  });
});

describe('messages after the SDK call', () => {
  it('success: the public URL, where it forwards, and the SINK_URL to set', () => {
    expect(tunnelOpenLines('https://abc.ngrok-free.app', 'http://127.0.0.1:9888')).toEqual([
      'tunnel open: https://abc.ngrok-free.app → http://127.0.0.1:9888',
      'set SINK_URL=https://abc.ngrok-free.app in Pipedream',
    ]);
  });

  const options: TunnelOptions = {
    proto: 'http',
    addr: '127.0.0.1:9888',
    authtoken: TOKEN,
    basic_auth: [`${USER}:${PASS}`],
  };
  const secrets = tunnelSecrets(options);
  const basicHeader = Buffer.from(`${USER}:${PASS}`).toString('base64');
  const leaky: Array<[string, unknown]> = [
    ['an Error quoting the token', new Error(`authentication failed: token ${TOKEN} is invalid`)],
    ['an Error quoting the password', new Error(`invalid basic auth "${USER}:${PASS}"`)],
    ['an Error quoting the Authorization header', new Error(`Authorization: Basic ${basicHeader}`)],
    ['an Error quoting the password URL-encoded', new Error(`bad url https://${USER}:${encodeURIComponent(PASS)}@x`)],
    ['a multi-line Error', new Error(`first line\nsecond ${TOKEN}\n\tthird ${PASS}`)],
    ['a string', `failed with ${TOKEN} and ${PASS}`],
    ['a non-error object', { toString: () => `obj ${PASS} ${TOKEN}` }],
  ];
  it.each(leaky)('failure from %s: one line, no token, no password', (_name, error) => {
    const line = tunnelFailedLine(error, secrets);
    expect(line).toMatch(/^tunnel failed: .+; the sink keeps running locally$/);
    expect(line).not.toContain('\n');
    expect(line).not.toContain(TOKEN);
    expect(line).not.toContain(PASS);
    expect(line).not.toContain(encodeURIComponent(PASS));
    expect(line).not.toContain(basicHeader);
    expect(line).toContain('[redacted]');
  });

  it('scrubs a password with spaces even when the SDK wrapped it across lines', () => {
    const spaced = 'correct horse battery';
    const withSpaces = tunnelSecrets({ authtoken: TOKEN, basic_auth: [`${USER}:${spaced}`] });
    const line = tunnelFailedLine(new Error('rejected: correct\n  horse battery'), withSpaces);
    expect(line).toBe('tunnel failed: rejected: [redacted]; the sink keeps running locally');
  });

  it('keeps the useful part of the reason and the SDK error code', () => {
    const error = Object.assign(new Error('failed to connect session'), { errorCode: 'ERR_NGROK_105' });
    expect(tunnelFailedLine(error, secrets)).toBe(
      'tunnel failed: failed to connect session (ERR_NGROK_105); the sink keeps running locally',
    );
    expect(describeTunnelError(new Error('dns error: no network'), secrets)).toBe('dns error: no network');
  });

  it('has a reason even for empty or hostile errors', () => {
    expect(describeTunnelError(new Error(''), secrets)).toBe('unknown error');
    expect(describeTunnelError(undefined, secrets)).toBe('undefined');
    const hostile = {
      toString: () => {
        throw new Error('no');
      },
    };
    expect(describeTunnelError(hostile, secrets)).toBe('unknown error');
  });

  it('cuts very long reasons after scrubbing, so no secret is left half-cut', () => {
    const reason = describeTunnelError(new Error(`${'y'.repeat(290)}${TOKEN}${'z'.repeat(500)}`), secrets);
    expect(reason.length).toBeLessThanOrEqual(301);
    expect(reason).not.toContain(TOKEN.slice(0, 8));
  });
});

describe('secrets in the encodings an SDK error may quote them in', () => {
  // Characters that each encoding changes: a quote, a backslash, a slash, a space, a plus, non-ASCII.
  const pass = 'Pä"ss\\w/rd +€9';
  const pair = `${USER}:${pass}`;
  const secrets = tunnelSecrets({ authtoken: TOKEN, basic_auth: [pair] });
  const named: Array<[string, string]> = [
    ['the token', TOKEN],
    ['the password', pass],
    ['the user:pass pair', pair],
  ];
  const nonAscii = (text: string) =>
    text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const encodings: Array<[string, (secret: string) => string]> = [
    ['JSON-escaped', (x) => JSON.stringify(x).slice(1, -1)],
    ['JSON-escaped, ASCII only', (x) => nonAscii(JSON.stringify(x).slice(1, -1))],
    ['JSON-escaped, slashes too', (x) => JSON.stringify(x).slice(1, -1).replaceAll('/', '\\/')],
    ['URL-encoded', (x) => encodeURIComponent(x)],
    ['URL-encoded, lower-case hex', (x) => encodeURIComponent(x).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())],
    ['form-encoded', (x) => new URLSearchParams({ v: x }).toString().slice('v='.length)],
    ['base64', (x) => Buffer.from(x).toString('base64')],
    ['base64 without padding', (x) => Buffer.from(x).toString('base64').replace(/=+$/, '')],
    ['base64url', (x) => Buffer.from(x).toString('base64url')],
  ];
  // Only the forms that differ from the secret itself (a token of letters, digits and _ reads the same escaped).
  const cases = named.flatMap(([who, secret]) =>
    encodings
      .map(([how, encode]) => [`${who} ${how}`, secret, encode(secret)] as [string, string, string])
      .filter(([, secret, encoded]) => encoded !== secret),
  );

  it.each(cases)('%s', (_name, secret, encoded) => {
    const line = describeTunnelError(new Error(`rejected {"detail":"${encoded}"} by the edge`), secrets);
    expect(line).toMatch(/^rejected \{"detail":"\[redacted\][=]*"\} by the edge$/);
    expect(line).not.toContain(secret);
  });

  it.each([1, 2, 3])('the token inside a longer base64 text, at byte offset %i', (offset) => {
    const before = '{"x":"'.slice(0, offset);
    const blob = Buffer.from(`${before}${TOKEN}","more":"after the token"}`).toString('base64');
    const line = describeTunnelError(new Error(`blob ${blob} end`), secrets);
    const [left, right] = /^blob (\S*)\[redacted\](\S*) end$/.exec(line)?.slice(1) ?? [];
    expect(left).toBeDefined();
    // What is left decodes to the bytes around the token, never to a piece of it.
    expect(Buffer.from(left!, 'base64').toString()).toBe(before);
    // Decoded in step with the blob: filler characters bring its start back to a four-character boundary.
    const decodedRight = Buffer.from(`${'A'.repeat((blob.length - right!.length) % 4)}${right}`, 'base64');
    expect(decodedRight.toString('latin1')).toMatch(/","more":"after the token"}$/);
    expect(decodedRight.length).toBeLessThanOrEqual(Buffer.byteLength('","more":"after the token"}') + 3);
  });

  it.each([
    ['newlines', `${TOKEN.slice(0, 10)}\n${TOKEN.slice(10, 20)}\n${TOKEN.slice(20)}`],
    ['CRLF and indentation', `${TOKEN.slice(0, 7)}\r\n    ${TOKEN.slice(7)}`],
    [
      'a wrapped Authorization header',
      `Basic ${Buffer.from(pair)
        .toString('base64')
        .replace(/(.{10})/g, '$1\n')}`,
    ],
  ])('a secret split across lines: %s', (_name, text) => {
    const reason = describeTunnelError(new Error(`invalid credentials:\n${text}\n(ERR_NGROK_105)`), secrets);
    expect(reason).toMatch(/^invalid credentials: (Basic )?\[redacted\]=* \(ERR_NGROK_105\)$/);
  });

  it('leaves text that only resembles a secret alone', () => {
    const text = `${TOKEN.slice(0, -1)}X and ${encodeURIComponent(pass).slice(0, -3)} and dGhlIHRva2Vu`;
    expect(describeTunnelError(new Error(text), secrets)).toBe(text);
  });
});

/** A stand-in for the SDK's forward(), recording what it was given. */
function fakeConnect(behaviour: { url?: string | null; error?: unknown; closeError?: unknown }) {
  const calls: TunnelOptions[] = [];
  let closed = 0;
  const connect: ConnectTunnel = async (options) => {
    calls.push(options);
    if (behaviour.error !== undefined) throw behaviour.error;
    const listener: TunnelListener = {
      url: () => (behaviour.url === undefined ? 'https://abc.ngrok-free.app' : behaviour.url),
      close: async () => {
        closed += 1;
        if (behaviour.closeError !== undefined) throw behaviour.closeError;
      },
    };
    return listener;
  };
  return { connect, calls, closedCount: () => closed };
}

function logger() {
  const lines: string[] = [];
  return { log: (line: string) => void lines.push(line), lines };
}

describe('openTunnel', () => {
  it('opens with the planned options, prints the URL and the SINK_URL line, and closes once', async () => {
    const sdk = fakeConnect({ url: 'https://abc.ngrok-free.app' });
    const out = logger();
    const tunnel = await openTunnel(config({ host: '0.0.0.0' }), 'http://0.0.0.0:9888', out.log, sdk.connect);
    expect(tunnel?.url).toBe('https://abc.ngrok-free.app');
    expect(sdk.calls).toEqual([
      { proto: 'http', addr: '127.0.0.1:9888', authtoken: TOKEN, basic_auth: [`${USER}:${PASS}`] },
    ]);
    expect(out.lines).toEqual([
      'tunnel open: https://abc.ngrok-free.app → http://127.0.0.1:9888',
      'set SINK_URL=https://abc.ngrok-free.app in Pipedream',
    ]);
    await Promise.all([tunnel!.close(), tunnel!.close()]);
    await tunnel!.close();
    expect(sdk.closedCount()).toBe(1);
  });

  it('without a token: prints the hint, never calls the SDK', async () => {
    const sdk = fakeConnect({});
    const out = logger();
    expect(await openTunnel(config({ ngrok: null }), LOCAL, out.log, sdk.connect)).toBeNull();
    expect(sdk.calls).toHaveLength(0);
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toContain('NGROK_AUTHTOKEN');
  });

  it.each([
    ['no credentials', config({ auth: null })],
    ['a 7-character password', config({ auth: { user: USER, pass: 'seven77' } })],
  ])('with %s: refuses, never calls the SDK', async (_name, cfg) => {
    const sdk = fakeConnect({});
    const out = logger();
    expect(await openTunnel(cfg, LOCAL, out.log, sdk.connect)).toBeNull();
    expect(sdk.calls).toHaveLength(0);
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatch(/^tunnel refused: /);
    expect(out.lines[0]).not.toContain('seven77');
  });

  it('SDK failure: prints a scrubbed failure line and resolves to null', async () => {
    const sdk = fakeConnect({ error: new Error(`session failed: authtoken ${TOKEN} rejected for ${USER}:${PASS}`) });
    const out = logger();
    await expect(openTunnel(config(), LOCAL, out.log, sdk.connect)).resolves.toBeNull();
    expect(sdk.calls).toHaveLength(1);
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatch(/^tunnel failed: session failed: .*; the sink keeps running locally$/);
    const printed = out.lines.join('\n');
    expect(printed).not.toContain(TOKEN);
    expect(printed).not.toContain(PASS);
  });

  it('SDK that throws synchronously or rejects with a non-Error: still null, still scrubbed', async () => {
    const out = logger();
    const throwing: ConnectTunnel = () => {
      throw `raw ${PASS}`;
    };
    await expect(openTunnel(config(), LOCAL, out.log, throwing)).resolves.toBeNull();
    expect(out.lines).toEqual(['tunnel failed: raw [redacted]; the sink keeps running locally']);
  });

  it('a listener without a public URL is a failure, and is closed', async () => {
    const sdk = fakeConnect({ url: null });
    const out = logger();
    expect(await openTunnel(config(), LOCAL, out.log, sdk.connect)).toBeNull();
    expect(out.lines).toEqual(['tunnel failed: ngrok opened no public URL; the sink keeps running locally']);
    expect(sdk.closedCount()).toBe(1);
  });

  it('a failing close is logged, scrubbed, and does not reject', async () => {
    const sdk = fakeConnect({ closeError: new Error(`close failed for ${TOKEN}`) });
    const out = logger();
    const tunnel = await openTunnel(config(), LOCAL, out.log, sdk.connect);
    await expect(tunnel!.close()).resolves.toBeUndefined();
    expect(out.lines.at(-1)).toBe('tunnel close failed: close failed for [redacted]');
  });
});

describe('the real SDK', () => {
  it('loads and exposes forward() without opening anything', async () => {
    const ngrok = await import('@ngrok/ngrok');
    expect(typeof ngrok.forward).toBe('function');
    expect(await ngrok.listeners()).toEqual([]);
  });

  it('is not loaded by a sink without a token', async () => {
    // A fresh process, since this one has loaded the SDK already. The probe counts @ngrok modules
    // in the CommonJS cache after a token-less openTunnel, then after importing the SDK on purpose
    // (proving the probe sees it when it is there).
    const probe = `
      import { createRequire } from 'node:module';
      const { openTunnel } = await import(process.argv[1]);
      const cache = createRequire(import.meta.url)('node:module')._cache;
      const loaded = () => Object.keys(cache).filter((k) => k.includes('@ngrok')).length;
      const config = ${JSON.stringify(config({ ngrok: null }))};
      const lines = [];
      const tunnel = await openTunnel(config, 'http://127.0.0.1:9888', (l) => lines.push(l));
      const before = loaded();
      await import('@ngrok/ngrok');
      console.log(JSON.stringify({ tunnel, lines: lines.length, before, after: loaded() }));
    `;
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', probe, path.join(root, 'sink', 'tunnel.ts')],
      { cwd: root, timeout: 20_000 },
    );
    const result = JSON.parse(stdout) as { tunnel: unknown; lines: number; before: number; after: number };
    expect(result.tunnel).toBeNull();
    expect(result.lines).toBe(1);
    expect(result.before).toBe(0);
    expect(result.after).toBeGreaterThan(0);
  });
});
