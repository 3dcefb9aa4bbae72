import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { parseSinkConfig } from '../../shared/config.js';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { ROUTES } from '../../sink/routes.js';
import {
  basic,
  call,
  destroyAgent,
  runSink,
  spawnSink,
  tempDir,
  type Reply,
  type SpawnedSink,
} from '../sink/sink-support.js';
import { leakCollector, loadCorpus } from './support.js';
import { waitFor } from '../support/wait-for.js';
import { listeningOn, spawnWorker, type Proc } from '../e2e/support.js';
import { buildWorkerForEntry } from '../worker/support.js';

// The security properties of issue 9 against the real entry points (sink/main.ts and scripts/worker.ts, the
// Worker in workerd as `npm run worker` runs it, spawned with credentials and a webhook secret): credentials on
// every route but /ping, no secret in anything either process prints or answers, loopback by default with a
// warning when exposed, and answers that name no technology. (The comparison of credentials is checked in
// auth-compare.test.ts.)

const USER = 'relay-user';
const PASS = 'sink-pass-Vv7k-TOPSECRET';
const SECRET = 'up42-whsec-Rt55-TOPSECRET';
const AUTH = basic(USER, PASS);
/** Wrong guesses sent during the tests: none of them may be echoed either. */
const WRONG = [basic(USER, `${PASS}x`), basic(USER, PASS.toUpperCase()), basic(PASS, USER)];
const SECRETS = [PASS, SECRET, AUTH, AUTH.slice('Basic '.length), ...WRONG.map((w) => w.slice('Basic '.length))];

const said = leakCollector();
const replies: { from: 'sink' | 'worker'; reply: Reply }[] = [];

async function ask(
  from: 'sink' | 'worker',
  base: string,
  path: string,
  options: Parameters<typeof call>[2] = {},
): Promise<Reply> {
  const reply = await call(base, path, options);
  replies.push({ from, reply });
  said.add(reply.text, JSON.stringify(reply.rawHeaders));
  return reply;
}

let data: Awaited<ReturnType<typeof tempDir>>;
let sink: SpawnedSink;
let worker: { proc: Proc; url: string };

beforeAll(async () => {
  data = await tempDir();
  // SINK_HOST empty: unset, so the default applies.
  // Many wrong credentials are tried on purpose here: the backoff (tested in test/sink) is set out of the way.
  sink = await spawnSink({
    SINK_HOST: '',
    SINK_DATA_DIR: data.dir,
    SINK_BASIC_AUTH_USER: USER,
    SINK_BASIC_AUTH_PASS: PASS,
    SINK_MAX_FAILED_LOGINS: '1000000',
  });
  await buildWorkerForEntry();
  const proc = spawnWorker(
    {
      UP42_WEBHOOK_SECRET: SECRET,
      SINK_URL: sink.url,
      SINK_BASIC_AUTH_USER: USER,
      SINK_BASIC_AUTH_PASS: PASS,
      FORWARD_MAX_ATTEMPTS: '1',
    },
    `${data.dir}/outbox`,
    data.dir,
  );
  worker = { proc, url: (await listeningOn(proc)).url };
}, 60_000);
afterAll(async () => {
  await worker?.proc.stop();
  await sink.stop();
  destroyAgent();
  await data.remove();
});

describe('credentials', () => {
  const table = loadCorpus<{ methods: string[]; routes: Record<string, unknown> }>('sink-routes.json');
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'];

  it(
    'every route but /ping answers 401 without credentials, ' +
      'with wrong ones and with malformed ones, and tells nothing',
    async () => {
      const paths = [
        ...ROUTES.keys(),
        ...Object.keys((await table).routes).filter((p) => p !== '/ping'),
        '/nowhere',
        '/dump-webhooks?envelope=1',
        '/events?since=0',
      ];
      const attempts = [undefined, ...WRONG, 'Basic', `Bearer ${PASS}`, `Basic ${USER}:${PASS}`];
      let n = 0;
      for (const path of new Set(paths)) {
        for (const method of methods) {
          for (const authorization of attempts) {
            const reply = await ask('sink', sink.url, path, {
              method,
              headers: authorization === undefined ? {} : { authorization },
            });
            n += 1;
            expect({ path, method, status: reply.status }).toEqual({ path, method, status: 401 });
            expect(reply.headers['www-authenticate']).toMatch(/^Basic realm=/);
            expect(reply.text).toBe(method === 'HEAD' ? '' : '{"code": 401, "msg": "unauthorized"}\n');
          }
        }
      }
      expect(n).toBeGreaterThan(300);
    },
  );

  it('/ping answers without credentials (anywhere in the path, any case), and only with PONG', async () => {
    // (/ping/../dump-webhooks, which a URL parser would resolve first, is in the raw corpus.)
    for (const path of ['/ping', '/PING', '/x/ping', '/ping?x=1']) {
      const reply = await ask('sink', sink.url, path);
      expect([path, reply.status, reply.text]).toEqual([path, 200, 'PONG']);
    }
  });

  it('the right credentials open every route', async () => {
    for (const path of ['/stats', '/dump-webhooks', '/']) {
      expect((await ask('sink', sink.url, path, { headers: { authorization: AUTH } })).status).toBe(200);
    }
  });
});

describe('no secret in anything said', () => {
  it('deliveries through the Worker to the sink, good and bad, and every answer and line about them', async () => {
    const deliver = async (tamper?: (h: Record<string, string>) => void) => {
      const body = JSON.stringify({
        event: 'job.status',
        messageId: `sec-${Date.now()}-${Math.random()}`,
        liveMode: true,
        timestamp: new Date().toISOString(),
        body: { status: 'FAILED', jobId: 'j1' },
      });
      const headers = signedDeliveryHeaders({ body, secret: SECRET, created: Math.floor(Date.now() / 1000) });
      tamper?.(headers);
      return ask('worker', worker.url, '/', { method: 'POST', headers, body });
    };
    expect((await deliver()).status).toBe(200);
    expect((await deliver()).status).toBe(200);
    expect((await deliver((h) => (h.signature = `up42-sig=${Buffer.from(SECRET).toString('base64')}`))).status).toBe(
      401,
    );
    expect((await deliver((h) => (h['signature-input'] = `up42-sig=("${SECRET}");created=1`))).status).toBe(401);
    expect((await deliver((h) => delete h.signature)).status).toBe(401);

    // The outbox delivers on its own: the dump is read once both are there.
    const dump = await waitFor(
      async () => {
        const reply = await call(sink.url, '/dump-webhooks?envelope=1', { headers: { authorization: AUTH } });
        return /"number_webhooks_received": 2\}\n$/.test(reply.text) ? reply : undefined;
      },
      { what: 'both deliveries in the dump' },
    );
    said.add(dump.text);
    // The Worker's view of its outbox names no secret either.
    await ask('worker', worker.url, '/outbox', { headers: { authorization: AUTH } });
    await ask('sink', sink.url, '/stats', { headers: { authorization: AUTH } });
    await ask('sink', sink.url, '/receive-webhooks', {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: 'not json',
    });
    // A stream client, connected and gone: the access log line it leaves behind says nothing more either.
    await new Promise<void>((done) => {
      const req = request(`${sink.url}/events?since=0`, { headers: { authorization: AUTH } }, (res) => {
        res.once('data', () => {
          req.destroy();
          done();
        });
      });
      req.on('error', () => done());
      req.end();
    });
  });

  it('a configuration error names the variable to fix, never the value', async () => {
    const run = runSink({ SINK_BASIC_AUTH_PASS: PASS, SINK_BASIC_AUTH_USER: '' });
    expect(await run.exited).toBe(2);
    expect(run.err()).toMatch(/SINK_BASIC_AUTH_USER/);
    said.add(run.out(), run.err());
  });

  it(
    'nothing either process printed or answered holds the password, ' + 'the secret or an Authorization value',
    async () => {
      // The access log is written after the reply: wait for its line rather than for a fixed time.
      await waitFor(() => /"GET \/stats HTTP\/1\.1" 200/.test(sink.stdout()), { what: 'the GET /stats log line' });
      said.add(sink.stdout(), sink.stderr(), worker.proc.output());
      expect(sink.stdout()).toMatch(/"GET \/stats HTTP\/1\.1" 200/); // the logs are really collected
      expect(worker.proc.output()).toMatch(/^listening on /m);
      expect(said.size).toBeGreaterThan(300);
      expect(said.leaks(SECRETS)).toEqual([]);
    },
  );
});

describe('where the sink listens', () => {
  it('loopback by default', async () => {
    const parsed = parseSinkConfig({});
    expect(parsed.ok && parsed.value.host).toBe('127.0.0.1');
    expect(sink.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sink.stderr()).not.toMatch(/WARNING/);
  });

  it('says so when told to listen on all interfaces without credentials, and not with them', async () => {
    const open = await spawnSink({ SINK_HOST: '0.0.0.0', SINK_STORE: 'memory' });
    try {
      expect(open.stdout()).toMatch(/^listening on http:\/\/0\.0\.0\.0:\d+$/m);
      expect(open.stderr()).toMatch(
        /WARNING: the sink listens on 0\.0\.0\.0, which other machines can reach, and no basic auth is set/,
      );
    } finally {
      await open.stop();
    }
    const guarded = await spawnSink({
      SINK_HOST: '0.0.0.0',
      SINK_STORE: 'memory',
      SINK_BASIC_AUTH_USER: USER,
      SINK_BASIC_AUTH_PASS: PASS,
    });
    try {
      expect(guarded.stderr()).not.toMatch(/WARNING/);
      said.add(guarded.stdout(), guarded.stderr());
    } finally {
      await guarded.stop();
    }
  }, 40_000);
});

describe('answers name no technology or version', () => {
  it('the sink says LeRenard2000 and nothing else about itself; the Worker says nothing', () => {
    expect(replies.length).toBeGreaterThan(300);
    for (const { from, reply } of replies) {
      const names = Object.keys(reply.headers);
      expect(names).not.toContain('x-powered-by');
      expect(reply.headers.server).toBe(from === 'sink' ? 'LeRenard2000' : undefined);
      const head = reply.rawHeaders.join('\n');
      expect(head).not.toMatch(/node|express|undici|tsx|openresty|nginx|pipedream|\bv?\d+\.\d+\.\d+/i);
      expect(reply.text).not.toMatch(/node\.?js|express|openresty|nginx|\bat .*\.(ts|js):\d+/i);
    }
  });
});
