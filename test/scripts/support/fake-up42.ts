import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendTestEvent } from './up42-test-event.js';

/**
 * A stand-in for UP42's token endpoint and webhooks API on loopback. It behaves as the real one does
 * for what the CLI uses (password grant, bearer tokens, the {data, error} envelope, whole-webhook PUT)
 * and records every request so tests can check what the CLI sent.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface StoredWebhook {
  id: string;
  name: string;
  url: string;
  events: string[];
  active: boolean;
  secret: string | null;
  createdAt: string;
  updatedAt: string;
}

/** An asset of a fulfilled order in UP42's storage, and the bytes its download URL serves. */
export interface FakeAsset {
  id: string;
  name: string;
  content: Buffer;
}

/** Assets are listed this many to a page, so a client must follow the pages. */
export const ASSET_PAGE_SIZE = 2;

export interface FakeUp42 {
  url: string;
  /** Storage: the assets of each order, by order id. */
  assets: Map<string, FakeAsset[]>;
  requests: RecordedRequest[];
  webhooks: Map<string, StoredWebhook>;
  /** Tokens handed out, in order. */
  issued: string[];
  username: string;
  password: string;
  workspaceId: string;
  /** Seconds the tokens live (expires_in). */
  expiresIn: number;
  /** How many test deliveries succeed on POST .../tests (of 2). */
  testsSucceeded: number;
  /** Answer these paths with this status (and UP42's error envelope) instead of serving them. */
  forceStatus: Map<string, number>;
  /** Paths never answered (for timeouts). */
  hang: Set<string>;
  /** Make API errors echo the Authorization header and the password, as a careless server might. */
  echoCredentials: boolean;
  /**
   * Deliver test events for real on POST .../tests, as UP42 does: one per subscribed event, signed with the
   * webhook's secret over `signedComponents`, and count the 2xx answers. Off: only `testsSucceeded` is answered.
   */
  deliverTests: boolean;
  /** The headers the fake signs; UP42 does not publish which it signs, so tests choose. */
  signedComponents: string[];
  /** What each delivered test event got back. */
  testDeliveries: { url: string; status: number | null; body: string }[];
  /** Forgets the requests, the webhooks and every forced behaviour: each test starts from the defaults. */
  reset(): void;
  close(): Promise<void>;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function fakeJwt(claims: Record<string, unknown>): string {
  const signature = Buffer.from('not-a-real-signature').toString('base64url');
  return `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims)}.${signature}`;
}

export async function startFakeUp42(
  options: { workspaceId?: string; username?: string; password?: string } = {},
): Promise<FakeUp42> {
  const state = {
    requests: [] as RecordedRequest[],
    webhooks: new Map<string, StoredWebhook>(),
    assets: new Map<string, FakeAsset[]>(),
    issued: [] as string[],
    username: options.username ?? 'ada@example.com',
    password: options.password ?? 'correct horse battery staple',
    workspaceId: options.workspaceId ?? 'ws-3c2d1e0f-9a8b-4c7d',
    expiresIn: 300,
    testsSucceeded: 2,
    forceStatus: new Map<string, number>(),
    hang: new Set<string>(),
    echoCredentials: false,
    deliverTests: false,
    signedComponents: ['content-type', 'date', 'content-digest'],
    testDeliveries: [] as { url: string; status: number | null; body: string }[],
  };
  let nextId = 1;

  const deliverTest = (webhook: StoredWebhook, event: string) =>
    sendTestEvent(webhook.url, webhook.secret ?? '', event, state.signedComponents).then((delivery) => {
      state.testDeliveries.push(delivery);
      return delivery.status !== null && delivery.status >= 200 && delivery.status < 300;
    });

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const requestUrl = new URL(req.url ?? '/', 'http://x');
      const path = requestUrl.pathname;
      const method = req.method ?? 'GET';
      state.requests.push({ method, path, headers: req.headers, body });
      const send = (status: number, payload?: unknown) => {
        if (payload === undefined) {
          res.writeHead(status).end();
          return;
        }
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      };
      const envelope = (status: number, data: unknown) => send(status, { data, error: null });
      const error = (status: number, message: string) => send(status, { data: null, error: { code: status, message } });

      if (state.hang.has(path)) return; // the request stays open until the server closes
      const forced = state.forceStatus.get(path);
      if (forced !== undefined) return error(forced, `forced ${forced} for ${path}`);

      if (path === '/realms/public/protocol/openid-connect/token') {
        const form = new URLSearchParams(body);
        if (method !== 'POST' || !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
          return send(400, { error: 'invalid_request' });
        }
        if (form.get('grant_type') !== 'password' || form.get('client_id') !== 'up42-sdk')
          return send(400, { error: 'unauthorized_client' });
        if (form.get('username') !== state.username || form.get('password') !== state.password) {
          return send(401, { error: 'invalid_grant', error_description: 'Invalid user credentials' });
        }
        const token = fakeJwt({
          sub: state.workspaceId,
          jti: `t${state.issued.length + 1}`,
          exp: Math.floor(Date.now() / 1000) + state.expiresIn,
        });
        state.issued.push(token);
        return send(200, { access_token: token, expires_in: state.expiresIn, token_type: 'Bearer', scope: 'profile' });
      }

      // A download URL is pre-signed, as UP42's are: it needs no token, only its own signature.
      const download = /^\/download\/([^/]+)$/.exec(path);
      if (download && method === 'GET') {
        const asset = [...state.assets.values()].flat().find((a) => a.id === download[1]);
        if (!asset || requestUrl.searchParams.get('signature') !== `sig-${asset.id}`)
          return send(403, { error: 'bad signature' });
        res
          .writeHead(200, { 'content-type': 'application/zip', 'content-length': asset.content.length })
          .end(asset.content);
        return;
      }

      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !state.issued.includes(auth.slice('Bearer '.length))) {
        return error(401, 'Unauthorized: missing or unknown token');
      }
      if (state.echoCredentials)
        return error(400, `rejected ${auth} (user ${state.username}, password ${state.password})`);
      if (method === 'GET' && path === '/webhooks/events')
        return envelope(200, [{ name: 'job.status' }, { name: 'order.status' }]);
      if (method === 'GET' && path === '/v2/assets') {
        // UP42's storage search: `search` matches an order id among others; pages count from 0.
        const found = state.assets.get(requestUrl.searchParams.get('search') ?? '') ?? [];
        const page = Number(requestUrl.searchParams.get('page') ?? '0');
        const content = found.slice(page * ASSET_PAGE_SIZE, (page + 1) * ASSET_PAGE_SIZE).map((a) => ({
          id: a.id,
          name: a.name,
          workspaceId: state.workspaceId,
          size: a.content.length,
        }));
        const totalPages = Math.ceil(found.length / ASSET_PAGE_SIZE);
        return send(200, { content, totalPages, totalElements: found.length, number: page, size: ASSET_PAGE_SIZE });
      }
      const downloadUrl = /^\/v2\/assets\/([^/]+)\/download-url$/.exec(path);
      if (downloadUrl && method === 'POST') {
        const id = downloadUrl[1]!;
        if (![...state.assets.values()].flat().some((a) => a.id === id)) return error(404, `Asset ${id} not found`);
        return send(200, {
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/download/${id}?signature=sig-${id}`,
        });
      }

      const match = /^\/workspaces\/([^/]+)\/webhooks(?:\/([^/]+))?(\/tests)?$/.exec(path);
      if (!match) return error(404, 'No such route');
      if (match[1] !== state.workspaceId) return error(403, 'Forbidden: not a member of this workspace');
      const id = match[2];
      const parse = (): Record<string, unknown> | null => {
        try {
          return JSON.parse(body) as Record<string, unknown>;
        } catch {
          return null;
        }
      };
      const complete = (
        input: Record<string, unknown> | null,
      ): input is { name: string; url: string; events: string[]; active: boolean; secret?: string | null } =>
        input !== null &&
        typeof input.name === 'string' &&
        typeof input.url === 'string' &&
        Array.isArray(input.events) &&
        typeof input.active === 'boolean';

      if (id === undefined) {
        if (method === 'GET') return envelope(200, [...state.webhooks.values()]);
        if (method === 'POST') {
          const input = parse();
          if (!complete(input)) return error(400, 'name, url, events and active are required');
          const now = new Date().toISOString();
          const webhook: StoredWebhook = {
            id: `wh-${nextId++}`,
            name: input.name,
            url: input.url,
            events: input.events,
            active: input.active,
            secret: input.secret ?? null,
            createdAt: now,
            updatedAt: now,
          };
          state.webhooks.set(webhook.id, webhook);
          return envelope(201, webhook);
        }
        return error(405, 'Method not allowed');
      }
      const existing = state.webhooks.get(id);
      if (!existing) return error(404, `Webhook ${id} not found`);
      if (match[3]) {
        if (method !== 'POST') return error(405, 'Method not allowed');
        if (!state.deliverTests) return envelope(200, { testsRun: 2, testsSucceeded: state.testsSucceeded });
        void Promise.all(existing.events.map((e) => deliverTest(existing, e))).then((results) =>
          envelope(200, { testsRun: results.length, testsSucceeded: results.filter(Boolean).length }),
        );
        return;
      }
      if (method === 'GET') return envelope(200, existing);
      if (method === 'DELETE') {
        state.webhooks.delete(id);
        return send(204);
      }
      if (method === 'PUT') {
        // UP42 replaces the whole webhook: a field left out is a 400 here, so a partial PUT cannot pass.
        const input = parse();
        if (!complete(input) || !('secret' in input))
          return error(400, 'name, url, events, active and secret are required');
        const updated: StoredWebhook = {
          ...existing,
          ...input,
          secret: input.secret ?? null,
          updatedAt: new Date().toISOString(),
        };
        state.webhooks.set(id, updated);
        return envelope(200, updated);
      }
      return error(405, 'Method not allowed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    reset: () => {
      state.requests.length = 0;
      state.webhooks.clear();
      state.assets.clear();
      state.forceStatus.clear();
      state.hang.clear();
      state.echoCredentials = false;
      state.deliverTests = false;
      state.signedComponents = ['content-type', 'date', 'content-digest'];
      state.testDeliveries.length = 0;
      state.testsSucceeded = 2;
      state.expiresIn = 300;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** A stored webhook to start a test from. */
export function seedWebhook(fake: FakeUp42, overrides: Partial<StoredWebhook> = {}): StoredWebhook {
  const webhook: StoredWebhook = {
    id: `wh-seed-${fake.webhooks.size + 1}`,
    name: 'relay',
    url: 'https://eo1abc.m.pipedream.net',
    events: ['job.status'],
    active: true,
    secret: 's3cr3t-seeded-value-0123',
    createdAt: '2026-11-30T07:00:00.000Z',
    updatedAt: '2026-11-30T07:00:00.000Z',
    ...overrides,
  };
  fake.webhooks.set(webhook.id, webhook);
  return webhook;
}
