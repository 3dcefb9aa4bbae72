import { describe, expect, it } from '@jest/globals';
import {
  normalizeSinkUrl,
  parseByteSize,
  parseForwardConfig,
  parseWorkerLocalConfig,
  parseOutboxConfig,
  parseSinkConfig,
  parseValidateConfig,
  type ConfigResult,
} from '../../shared/config.js';
import { describeName, emptyEnv, ENV_VARS, readEnv } from '../../shared/env.js';
import { DEFAULT_NOTIFY_STATUSES } from '../../shared/status.js';

const SECRET = 'whsec-7f3a9c1e5b';
const PASS = 'pa55-w0rd-long-enough';

/** The parsed value, or the test fails with the parser's own message. */
function value<T>(result: ConfigResult<T>): T {
  if (!result.ok) throw new Error(`expected a valid configuration, got: ${result.message}`);
  return result.value;
}

/** The error message; the test fails if the configuration was accepted. */
function problem<T>(result: ConfigResult<T>): string {
  if (result.ok) throw new Error(`expected invalid-config, got ${JSON.stringify(result.value)}`);
  expect(result.reason).toBe('invalid-config');
  return result.message;
}

describe('env table and readEnv', () => {
  it('gives each variable of the original article as an alias of its canonical name', () => {
    const aliases = Object.fromEntries(
      ENV_VARS.filter((v) => 'alias' in v).map((v) => [v.name, (v as { alias: string }).alias]),
    );
    expect(aliases).toEqual({
      UP42_WEBHOOK_SECRET: 'up42_webhook_secret_zwei',
      UP42_TEST_MODE: 'is_test',
      SINK_URL: 'local_dev_host',
      SINK_BASIC_AUTH_USER: 'ngrok_basic_auth_user',
      SINK_BASIC_AUTH_PASS: 'ngrok_basic_auth_pass',
    });
  });

  it('has unique names and aliases', () => {
    const all = ENV_VARS.flatMap((v) => ('alias' in v ? [v.name, v.alias] : [v.name]));
    expect(new Set(all).size).toBe(all.length);
  });

  it('reads the canonical name first, then the alias; blank counts as unset; values are trimmed', () => {
    expect(readEnv({ SINK_URL: 'a', local_dev_host: 'b' }, 'SINK_URL')).toBe('a');
    expect(readEnv({ local_dev_host: 'b' }, 'SINK_URL')).toBe('b');
    expect(readEnv({ SINK_URL: '  ', local_dev_host: 'b' }, 'SINK_URL')).toBe('b');
    expect(readEnv({ SINK_URL: ' a\n' }, 'SINK_URL')).toBe('a');
    expect(readEnv({}, 'SINK_URL')).toBeUndefined();
    expect(readEnv({ sink_url: 'a' }, 'SINK_URL')).toBeUndefined();
  });

  it('describes a variable with its alias for error messages', () => {
    expect(describeName('SINK_URL')).toBe('SINK_URL (or local_dev_host)');
    expect(describeName('SINK_PORT')).toBe('SINK_PORT');
  });
});

describe('emptyEnv', () => {
  it('sets every variable of the parts named, and every alias, empty, and nothing of other parts', () => {
    expect(emptyEnv(['worker'])).toEqual({
      FORWARD_PARK_MAX_HOURS: '',
      WORKER_PORT: '',
      WORKER_DATA_DIR: '',
      WORKER_MAX_WAITING: '',
      WORKER_MAX_WAITING_BYTES: '',
    });
    const sink = emptyEnv(['sink']);
    expect(Object.keys(sink).sort()).toEqual(
      [
        'SINK_HOST',
        'SINK_PORT',
        'SINK_DATA_DIR',
        'SINK_STORE',
        'SINK_DATABASE_URL',
        'SINK_MAX_BYTES',
        'SINK_MAX_BODY_BYTES',
        'SINK_MAX_EVENT_STREAMS',
        'SINK_BASIC_AUTH_USER',
        'ngrok_basic_auth_user',
        'SINK_BASIC_AUTH_PASS',
        'ngrok_basic_auth_pass',
        'NGROK_AUTHTOKEN',
        'NGROK_DOMAIN',
        'SINK_ALLOWED_HOSTS',
        'SINK_MAX_CONNECTIONS',
        'SINK_MAX_FAILED_LOGINS',
        'SINK_HOOK_COMMAND',
        'SINK_HOOK_FILTER',
        'SINK_HOOK_TIMEOUT_SECONDS',
        'SINK_HOOK_FROM_KEY',
        // The sink checks UP42's signature again with the forwarder's own settings.
        'UP42_WEBHOOK_SECRET',
        'up42_webhook_secret_zwei',
        'UP42_WEBHOOK_SECRET_PREVIOUS',
        'UP42_TEST_MODE',
        'is_test',
        'UP42_NOTIFY_STATUSES',
        'UP42_MAX_AGE_SECONDS',
        'UP42_MAX_FUTURE_SECONDS',
        'UP42_ACCEPT_WEAK_SIGNATURES',
        'FORWARDER_URL',
      ].sort(),
    );
    expect(new Set(Object.values(sink))).toEqual(new Set(['']));
    const both = emptyEnv(['sink', 'worker']);
    expect(both).toEqual({ ...sink, ...emptyEnv(['worker']) });
  });

  it('reads as unset: each part parses to its defaults from it, whatever a .env would have said', () => {
    const all = emptyEnv(['forwarder', 'sink', 'worker', 'scripts']);
    expect(value(parseSinkConfig(all))).toEqual(value(parseSinkConfig({})));
    expect(value(parseWorkerLocalConfig(all))).toEqual(value(parseWorkerLocalConfig({})));
    const sinkUrl = { SINK_URL: 'http://127.0.0.1:1' };
    expect(value(parseForwardConfig({ ...all, ...sinkUrl }))).toEqual(value(parseForwardConfig(sinkUrl)));
    const secret = { UP42_WEBHOOK_SECRET: 's' };
    expect(value(parseValidateConfig({ ...all, ...secret }))).toEqual(value(parseValidateConfig(secret)));
  });
});

describe('parseValidateConfig', () => {
  it('fills every default from the secret alone', () => {
    const config = value(parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET }));
    expect(config).toEqual({
      secrets: [SECRET],
      testMode: false,
      statuses: new Set(DEFAULT_NOTIFY_STATUSES),
      maxAgeSeconds: 300,
      maxFutureSeconds: 30,
      acceptWeakSignatures: false,
    });
  });

  it('reads UP42_ACCEPT_WEAK_SIGNATURES as yes or no, and refuses anything else', () => {
    expect(
      value(parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, UP42_ACCEPT_WEAK_SIGNATURES: 'yes' }))
        .acceptWeakSignatures,
    ).toBe(true);
    expect(
      value(parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, UP42_ACCEPT_WEAK_SIGNATURES: 'no' }))
        .acceptWeakSignatures,
    ).toBe(false);
    expect(
      problem(parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, UP42_ACCEPT_WEAK_SIGNATURES: 'sometimes' })),
    ).toMatch(/UP42_ACCEPT_WEAK_SIGNATURES must be yes or no/);
  });

  it('reads the article’s names: up42_webhook_secret_zwei and is_test=yes', () => {
    const config = value(parseValidateConfig({ up42_webhook_secret_zwei: SECRET, is_test: 'yes' }));
    expect(config.secrets).toEqual([SECRET]);
    expect(config.testMode).toBe(true);
  });

  it('prefers the canonical name over the alias', () => {
    const config = value(
      parseValidateConfig({
        UP42_WEBHOOK_SECRET: 'new',
        up42_webhook_secret_zwei: 'old',
        UP42_TEST_MODE: 'no',
        is_test: 'yes',
      }),
    );
    expect(config.secrets).toEqual(['new']);
    expect(config.testMode).toBe(false);
  });

  it('accepts the previous secret as a second one (rotation)', () => {
    expect(
      value(parseValidateConfig({ UP42_WEBHOOK_SECRET: 'new', UP42_WEBHOOK_SECRET_PREVIOUS: 'old' })).secrets,
    ).toEqual(['new', 'old']);
  });

  it('trims surrounding whitespace from the secret, as from every value (a pasted newline is not part of it)', () => {
    expect(value(parseValidateConfig({ UP42_WEBHOOK_SECRET: ` ${SECRET}\n` })).secrets).toEqual([SECRET]);
  });

  it.each([{}, { UP42_WEBHOOK_SECRET: '' }, { UP42_WEBHOOK_SECRET: '   ' }, { up42_webhook_secret_zwei: '' }])(
    'names the missing secret, under both names: %j',
    (env) => {
      expect(problem(parseValidateConfig(env))).toMatch(
        /UP42_WEBHOOK_SECRET \(or up42_webhook_secret_zwei\) is not set/,
      );
    },
  );

  it.each([
    ['yes', true],
    ['YES', true],
    ['true', true],
    ['1', true],
    ['on', true],
    ['no', false],
    ['No', false],
    ['false', false],
    ['0', false],
    ['off', false],
  ] as const)('reads the test-mode flag %j as %s', (raw, expected) => {
    expect(value(parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, UP42_TEST_MODE: raw })).testMode).toBe(expected);
    expect(value(parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, is_test: raw })).testMode).toBe(expected);
  });

  it('rejects a test-mode flag that is neither yes nor no', () => {
    expect(problem(parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, is_test: 'maybe' }))).toMatch(
      /UP42_TEST_MODE \(or is_test\) must be yes or no/,
    );
  });

  it('replaces the status list from UP42_NOTIFY_STATUSES', () => {
    const config = value(
      parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, UP42_NOTIFY_STATUSES: 'failed permanently, Error' }),
    );
    expect([...config.statuses].sort()).toEqual(['ERROR', 'FAILED_PERMANENTLY']);
  });

  it('rejects a status list with no status in it', () => {
    expect(problem(parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, UP42_NOTIFY_STATUSES: ' , ,' }))).toMatch(
      /UP42_NOTIFY_STATUSES/,
    );
  });

  it('reads both window bounds, with their limits', () => {
    const config = value(
      parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, UP42_MAX_AGE_SECONDS: '60', UP42_MAX_FUTURE_SECONDS: '0' }),
    );
    expect([config.maxAgeSeconds, config.maxFutureSeconds]).toEqual([60, 0]);
    expect(
      value(
        parseValidateConfig({
          UP42_WEBHOOK_SECRET: SECRET,
          UP42_MAX_AGE_SECONDS: '86400',
          UP42_MAX_FUTURE_SECONDS: '3600',
        }),
      ),
    ).toMatchObject({ maxAgeSeconds: 86400, maxFutureSeconds: 3600 });
  });

  it.each(['0', '-5', '1.5', '1e3', 'abc', '300s', '86401', '99999999999999999999'])(
    'rejects UP42_MAX_AGE_SECONDS=%j',
    (raw) => {
      expect(problem(parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, UP42_MAX_AGE_SECONDS: raw }))).toMatch(
        /UP42_MAX_AGE_SECONDS must be a whole number from 1 to 86400/,
      );
    },
  );

  it.each(['-1', '3601', 'thirty'])('rejects UP42_MAX_FUTURE_SECONDS=%j', (raw) => {
    expect(problem(parseValidateConfig({ UP42_WEBHOOK_SECRET: SECRET, UP42_MAX_FUTURE_SECONDS: raw }))).toMatch(
      /UP42_MAX_FUTURE_SECONDS must be a whole number from 0 to 3600/,
    );
  });

  it('reports every problem at once, without echoing the secret', () => {
    const message = problem(
      parseValidateConfig({
        UP42_WEBHOOK_SECRET_PREVIOUS: SECRET,
        is_test: 'perhaps',
        UP42_MAX_AGE_SECONDS: 'x',
        UP42_NOTIFY_STATUSES: ',',
      }),
    );
    for (const name of [
      'UP42_WEBHOOK_SECRET (or up42_webhook_secret_zwei)',
      'UP42_TEST_MODE',
      'UP42_MAX_AGE_SECONDS',
      'UP42_NOTIFY_STATUSES',
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain(SECRET);
  });
});

describe('normalizeSinkUrl', () => {
  it.each([
    ['abc123.ngrok-free.app', 'https://abc123.ngrok-free.app'],
    ['https://abc123.ngrok-free.app', 'https://abc123.ngrok-free.app'],
    ['https://abc123.ngrok-free.app/', 'https://abc123.ngrok-free.app'],
    ['https://abc123.ngrok-free.app///', 'https://abc123.ngrok-free.app'],
    ['HTTPS://ABC123.ngrok-free.app/', 'https://abc123.ngrok-free.app'],
    ['http://127.0.0.1:9888', 'http://127.0.0.1:9888'],
    ['localhost:9888', 'https://localhost:9888'],
    ['https://example.com/up42/hooks/', 'https://example.com/up42/hooks'],
  ])('%j -> %j', (raw, expected) => {
    expect(normalizeSinkUrl(raw)).toBe(expected);
  });

  it.each([
    'ftp://example.com',
    'file:///etc/passwd',
    'ws://example.com',
    'https://user:secret@example.com',
    'https://user@example.com',
    'https://example.com/?token=1',
    'https://example.com/#x',
    'https://',
    'https://exa mple.com',
    '',
  ])('rejects %j', (raw) => {
    expect(normalizeSinkUrl(raw)).toBeNull();
  });
});

describe('parseForwardConfig', () => {
  it('reads SINK_URL with defaults and no auth', () => {
    expect(value(parseForwardConfig({ SINK_URL: 'https://abc.ngrok-free.app/' }))).toEqual({
      sinkUrl: 'https://abc.ngrok-free.app',
      auth: null,
      maxAttempts: 4,
      deadlineMs: 15000,
      parkDelaysSeconds: [60, 300, 900, 1800, 3600, 3600, 7200, 7200, 10800, 10800],
      parkMaxHours: 72,
    });
  });

  it('reads the article’s names: local_dev_host, ngrok_basic_auth_user, ngrok_basic_auth_pass', () => {
    const config = value(
      parseForwardConfig({
        local_dev_host: 'abc.ngrok-free.app',
        ngrok_basic_auth_user: 'up42',
        ngrok_basic_auth_pass: PASS,
      }),
    );
    expect(config).toMatchObject({ sinkUrl: 'https://abc.ngrok-free.app', auth: { user: 'up42', pass: PASS } });
  });

  it('prefers the canonical names over the aliases', () => {
    const config = value(
      parseForwardConfig({
        SINK_URL: 'https://new.example',
        local_dev_host: 'old.example',
        SINK_BASIC_AUTH_USER: 'new',
        ngrok_basic_auth_user: 'old',
        SINK_BASIC_AUTH_PASS: PASS,
        ngrok_basic_auth_pass: 'old-password',
      }),
    );
    expect(config).toMatchObject({ sinkUrl: 'https://new.example', auth: { user: 'new', pass: PASS } });
  });

  it('names SINK_URL and its alias when it is missing', () => {
    expect(problem(parseForwardConfig({}))).toMatch(/SINK_URL \(or local_dev_host\) is not set/);
  });

  it('rejects a SINK_URL with credentials, and does not echo them', () => {
    const message = problem(parseForwardConfig({ SINK_URL: `https://up42:${PASS}@abc.ngrok-free.app` }));
    expect(message).toMatch(/SINK_URL \(or local_dev_host\) is not an http\(s\) URL/);
    expect(message).not.toContain(PASS);
  });

  it.each([
    [{ SINK_BASIC_AUTH_USER: 'up42' }],
    [{ SINK_BASIC_AUTH_PASS: PASS }],
    [{ ngrok_basic_auth_user: 'up42' }],
    [{ SINK_BASIC_AUTH_USER: 'up42', SINK_BASIC_AUTH_PASS: '  ' }],
  ])('requires user and password together: %j', (auth) => {
    const message = problem(parseForwardConfig({ SINK_URL: 'https://a.example', ...auth }));
    expect(message).toContain(
      'SINK_BASIC_AUTH_USER (or ngrok_basic_auth_user) and SINK_BASIC_AUTH_PASS (or ngrok_basic_auth_pass) ' +
        'must be set together',
    );
    expect(message).not.toContain(PASS);
  });

  it('rejects a user name with ":" (it would end the user part of basic auth)', () => {
    const message = problem(
      parseForwardConfig({ SINK_URL: 'https://a.example', SINK_BASIC_AUTH_USER: 'up:42', SINK_BASIC_AUTH_PASS: PASS }),
    );
    expect(message).toMatch(/SINK_BASIC_AUTH_USER .* must not contain ":"/);
    expect(message).not.toContain(PASS);
  });

  it('reads the retry bounds and rejects values outside them', () => {
    expect(
      value(parseForwardConfig({ SINK_URL: 'a.example', FORWARD_MAX_ATTEMPTS: '1', FORWARD_DEADLINE_MS: '100' })),
    ).toMatchObject({ maxAttempts: 1, deadlineMs: 100 });
    expect(problem(parseForwardConfig({ SINK_URL: 'a.example', FORWARD_MAX_ATTEMPTS: '11' }))).toMatch(
      /FORWARD_MAX_ATTEMPTS must be a whole number from 1 to 10/,
    );
    expect(problem(parseForwardConfig({ SINK_URL: 'a.example', FORWARD_MAX_ATTEMPTS: '0' }))).toMatch(
      /FORWARD_MAX_ATTEMPTS/,
    );
    expect(problem(parseForwardConfig({ SINK_URL: 'a.example', FORWARD_DEADLINE_MS: '25s' }))).toMatch(
      /FORWARD_DEADLINE_MS must be a whole number from 100 to 300000/,
    );
  });
});

describe('parseByteSize', () => {
  it.each([
    ['1048576', 1048576],
    ['1', 1],
    ['512B', 512],
    ['1K', 1024],
    ['1k', 1024],
    ['1KB', 1024],
    ['1KiB', 1024],
    ['1M', 1048576],
    ['1MiB', 1048576],
    ['1 M', 1048576],
    [' 256M ', 268435456],
    ['2G', 2147483648],
    ['2gib', 2147483648],
  ] as const)('%j -> %d', (raw, expected) => {
    expect(parseByteSize(raw)).toBe(expected);
  });

  it.each(['', '0', '0K', '-1', '1.5M', '1T', '1 TB', 'abc', 'M', '5i', '1iB', '1 M B', '99999999999999G'])(
    'rejects %j',
    (raw) => {
      expect(parseByteSize(raw)).toBeNull();
    },
  );
});

describe('parseSinkConfig', () => {
  it('needs nothing: every value has a default, no auth, no tunnel', () => {
    expect(value(parseSinkConfig({}))).toEqual({
      host: '127.0.0.1',
      port: 9888,
      dataDir: './data',
      store: 'file',
      databaseUrl: null,
      maxBytes: 268435456,
      maxBodyBytes: 1048576,
      maxEventStreams: 256,
      auth: null,
      ngrok: null,
      hook: null,
      allowedHosts: [],
      maxConnections: 256,
      maxFailedLogins: 10,
      up42: null,
      forwarderUrl: null,
    });
  });

  it('reads every variable', () => {
    const config = value(
      parseSinkConfig({
        SINK_HOST: '0.0.0.0',
        SINK_PORT: '0',
        SINK_DATA_DIR: '/tmp/sink',
        SINK_STORE: 'memory',
        SINK_MAX_BYTES: '1G',
        SINK_MAX_BODY_BYTES: '64K',
        SINK_MAX_EVENT_STREAMS: '12',
        ngrok_basic_auth_user: 'up42',
        ngrok_basic_auth_pass: PASS,
        NGROK_AUTHTOKEN: 'tok',
        NGROK_DOMAIN: 'me.ngrok.app',
        SINK_ALLOWED_HOSTS: ' Sink.Example.com, [fd00::1] ,',
        SINK_MAX_CONNECTIONS: '64',
        SINK_MAX_FAILED_LOGINS: '3',
        FORWARDER_URL: 'https://up42-webhook-forwarder.example.workers.dev/',
      }),
    );
    expect(config).toEqual({
      host: '0.0.0.0',
      port: 0,
      dataDir: '/tmp/sink',
      store: 'memory',
      databaseUrl: null,
      maxBytes: 1073741824,
      maxBodyBytes: 65536,
      maxEventStreams: 12,
      auth: { user: 'up42', pass: PASS },
      ngrok: { authtoken: 'tok', domain: 'me.ngrok.app' },
      hook: null,
      allowedHosts: ['sink.example.com', '[fd00::1]'],
      maxConnections: 64,
      maxFailedLogins: 3,
      up42: null,
      forwarderUrl: 'https://up42-webhook-forwarder.example.workers.dev',
    });
  });

  it("checks UP42's signature with the forwarder's settings when UP42_WEBHOOK_SECRET is set on it", () => {
    const config = value(
      parseSinkConfig({
        up42_webhook_secret_zwei: 'the-secret',
        UP42_WEBHOOK_SECRET_PREVIOUS: 'the-old-one',
        UP42_TEST_MODE: 'yes',
        UP42_MAX_AGE_SECONDS: '600',
      }),
    );
    expect(config.up42).toMatchObject({
      secrets: ['the-secret', 'the-old-one'],
      testMode: true,
      maxAgeSeconds: 600,
      acceptWeakSignatures: false,
    });
    // A bad one of those settings stops the sink as any other would.
    expect(problem(parseSinkConfig({ UP42_WEBHOOK_SECRET: 's', UP42_MAX_AGE_SECONDS: 'long' }))).toContain(
      'UP42_MAX_AGE_SECONDS must be a whole number',
    );
  });

  it('refuses a FORWARDER_URL that is not an http(s) URL', () => {
    expect(problem(parseSinkConfig({ FORWARDER_URL: 'ftp://worker' }))).toContain('FORWARDER_URL');
  });

  it('opens no tunnel for a domain without a token', () => {
    expect(value(parseSinkConfig({ NGROK_DOMAIN: 'me.ngrok.app' })).ngrok).toBeNull();
    expect(value(parseSinkConfig({ NGROK_AUTHTOKEN: 'tok' })).ngrok).toEqual({ authtoken: 'tok' });
  });

  it('rejects bad values, naming each variable, without echoing secrets', () => {
    const message = problem(
      parseSinkConfig({
        SINK_PORT: '65536',
        SINK_STORE: 'redis',
        SINK_MAX_BYTES: 'lots',
        SINK_MAX_BODY_BYTES: '0',
        SINK_BASIC_AUTH_PASS: PASS,
        NGROK_AUTHTOKEN: 'tok-secret-value',
      }),
    );
    for (const part of [
      'SINK_PORT must be a whole number from 0 to 65535',
      'SINK_STORE must be file, memory or postgres',
      'SINK_MAX_BYTES must be a positive number of bytes',
      'SINK_MAX_BODY_BYTES must be a positive number of bytes',
      'must be set together',
    ]) {
      expect(message).toContain(part);
    }
    expect(message).not.toContain(PASS);
    expect(message).not.toContain('tok-secret-value');
  });
});

describe('parseWorkerLocalConfig', () => {
  it('defaults to port 8787 and ./data/worker, and reads every variable', () => {
    expect(value(parseWorkerLocalConfig({}))).toEqual({ port: 8787, dataDir: './data/worker' });
    const env = { WORKER_PORT: '0', WORKER_DATA_DIR: '/var/outbox' };
    expect(value(parseWorkerLocalConfig(env))).toEqual({ port: 0, dataDir: '/var/outbox' });
  });

  it('rejects a port out of range', () => {
    expect(problem(parseWorkerLocalConfig({ WORKER_PORT: '70000' }))).toMatch(
      /WORKER_PORT must be a whole number from 0 to 65535/,
    );
  });
});

describe('SINK_HOOK_*', () => {
  it('is off without a command, and reads the command, filter, timeout and first key', () => {
    const off = parseSinkConfig({});
    expect(off.ok && off.value.hook).toBeNull();
    const on = parseSinkConfig({
      SINK_HOOK_COMMAND: 'node hook.js',
      SINK_HOOK_FILTER: 'event=order.status&status=FULFILLED',
      SINK_HOOK_TIMEOUT_SECONDS: '20',
      SINK_HOOK_FROM_KEY: '7',
    });
    expect(on.ok && on.value.hook).toEqual({
      command: 'node hook.js',
      filter: 'event=order.status&status=FULFILLED',
      timeoutSeconds: 20,
      fromKey: 7,
    });
    const defaults = parseSinkConfig({ SINK_HOOK_COMMAND: 'node hook.js' });
    expect(defaults.ok && defaults.value.hook).toEqual({
      command: 'node hook.js',
      filter: '',
      timeoutSeconds: 300,
      fromKey: null,
    });
  });

  it.each([
    [{ SINK_HOOK_COMMAND: 'x', SINK_HOOK_FROM_KEY: '0' }, 'SINK_HOOK_FROM_KEY'],
    [{ SINK_HOOK_COMMAND: 'x', SINK_HOOK_TIMEOUT_SECONDS: 'soon' }, 'SINK_HOOK_TIMEOUT_SECONDS'],
    [{ SINK_HOOK_FILTER: 'status=FAILED' }, 'need SINK_HOOK_COMMAND'],
  ])('refuses %j, naming %s', (env, named) => {
    const parsed = parseSinkConfig(env);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(named);
  });
});

describe('parseOutboxConfig', () => {
  it('defaults to 20,000 deliveries and 1 GiB, and reads both caps', () => {
    expect(value(parseOutboxConfig({}))).toEqual({ maxWaiting: 20_000, maxWaitingBytes: 1024 ** 3 });
    expect(value(parseOutboxConfig({ WORKER_MAX_WAITING: '5', WORKER_MAX_WAITING_BYTES: '64K' }))).toEqual({
      maxWaiting: 5,
      maxWaitingBytes: 65_536,
    });
  });

  it('names each bad cap', () => {
    const message = problem(parseOutboxConfig({ WORKER_MAX_WAITING: '0', WORKER_MAX_WAITING_BYTES: 'lots' }));
    expect(message).toContain('WORKER_MAX_WAITING must be');
    expect(message).toContain('WORKER_MAX_WAITING_BYTES');
  });
});
