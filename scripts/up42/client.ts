import type { Dispatcher } from 'undici';
import { fail, ok, type Result } from '../../shared/result.js';
import { oneLine, redact } from '../cli/text.js';
import type { Up42Config } from './config.js';
import type { Up42Failure } from './errors.js';
import { httpCall } from './http.js';
import { createTokenSource, type TokenSource } from './token.js';

/** A webhook as UP42 returns it; fields beyond these are kept and shown in --json. */
export interface Webhook {
  id?: string;
  name?: string;
  url?: string;
  events?: string[];
  active?: boolean;
  secret?: string | null;
  createdAt?: string;
  updatedAt?: string;
  [field: string]: unknown;
}

/** The writable fields: what POST and PUT send, PUT always all of them. */
export interface WebhookInput {
  name: string;
  url: string;
  events: string[];
  active: boolean;
  secret?: string | null;
}

export interface TestRun {
  testsRun?: number;
  testsSucceeded?: number;
  [field: string]: unknown;
}

type ApiResult<T> = Promise<Result<T, Up42Failure>>;

export interface Up42Client {
  events(): ApiResult<unknown>;
  list(): ApiResult<Webhook[]>;
  get(id: string): ApiResult<Webhook>;
  create(input: WebhookInput): ApiResult<Webhook>;
  replace(id: string, input: WebhookInput): ApiResult<Webhook>;
  remove(id: string): ApiResult<unknown>;
  test(id: string): ApiResult<TestRun>;
}

/** The message inside UP42's `{"data": ..., "error": ...}` envelope, or another common error shape. */
export function errorText(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const body = json as Record<string, unknown>;
  const error = body.error;
  if (typeof error === 'string' && error !== '') return error;
  if (typeof error === 'object' && error !== null) {
    const e = error as Record<string, unknown>;
    const text = [e.message, e.details, e.code].find((v) => typeof v === 'string' && v !== '');
    if (typeof text === 'string') return text;
    return JSON.stringify(error);
  }
  const other = [body.detail, body.message, body.title].find((v) => typeof v === 'string' && v !== '');
  return typeof other === 'string' ? other : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function createClient(
  config: Up42Config,
  options: {
    timeoutMs: number;
    now?: () => number;
    dispatcher?: Dispatcher;
    tokens?: TokenSource;
    knownSecrets?: readonly string[];
  },
): Up42Client {
  const tokens = options.tokens ?? createTokenSource(config, options);
  const hidden = [config.password, ...(options.knownSecrets ?? [])];

  /** `path` is a function of the workspace id for workspace routes; the workspace is only looked up for them. */
  const call = async (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string | ((ws: string) => string),
    body?: unknown,
  ): ApiResult<unknown> => {
    const token = await tokens.accessToken();
    if (!token.ok) return token;
    let workspace = '';
    if (typeof path !== 'string') {
      const ws = await tokens.workspaceId();
      if (!ws.ok) return ws;
      workspace = ws.value;
    }
    const route = typeof path === 'string' ? path : path(encodeURIComponent(workspace));
    const headers = { authorization: `Bearer ${token.value}`, accept: 'application/json' };
    const reply = await httpCall({
      method,
      url: `${config.apiUrl}${route}`,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: options.timeoutMs,
      dispatcher: options.dispatcher,
    });
    if (!reply.ok) return reply;
    const { status, json, text } = reply.value;
    const what = `${method} ${route}`;
    const detail = () => {
      const message = errorText(json) ?? text;
      return message.trim() === '' ? '' : `: ${oneLine(redact(message, [...hidden, token.value]), 200)}`;
    };
    if (status === 401)
      return fail('unauthorized', `UP42 did not accept the access token (401) for ${what}${detail()}`);
    if (status === 403) {
      const hint = workspace ? `: does the account belong to workspace ${workspace}?` : '';
      return fail('forbidden', `UP42 denied access (403) to ${what}${hint}${detail()}`);
    }
    if (status === 404) return fail('not-found', `not found (404): ${what}${detail()}`);
    if (status < 200 || status >= 300) return fail('api', `UP42 answered ${status} to ${what}${detail()}`);
    if (text.trim() === '') return ok(null);
    if (!isObject(json)) return fail('bad-response', `UP42 answered ${what} with something that is not a JSON object`);
    if (json.error !== undefined && json.error !== null)
      return fail('api', `UP42 reported an error for ${what}${detail()}`);
    return ok('data' in json ? json.data : json);
  };

  const webhook = async (result: Result<unknown, Up42Failure>, what: string): ApiResult<Webhook> => {
    if (!result.ok) return result;
    return isObject(result.value)
      ? ok(result.value as Webhook)
      : fail('bad-response', `UP42 returned no webhook for ${what}`);
  };
  const id = (value: string) => encodeURIComponent(value);

  return {
    events: () => call('GET', '/webhooks/events'),
    list: async () => {
      const result = await call('GET', (ws) => `/workspaces/${ws}/webhooks`);
      if (!result.ok) return result;
      const list = result.value === null ? [] : result.value;
      if (!Array.isArray(list) || !list.every(isObject))
        return fail('bad-response', 'UP42 returned no list of webhooks');
      return ok(list as Webhook[]);
    },
    get: async (webhookId) =>
      webhook(await call('GET', (ws) => `/workspaces/${ws}/webhooks/${id(webhookId)}`), `webhook ${webhookId}`),
    create: async (input) =>
      webhook(await call('POST', (ws) => `/workspaces/${ws}/webhooks`, input), 'the new webhook'),
    replace: async (webhookId, input) =>
      webhook(await call('PUT', (ws) => `/workspaces/${ws}/webhooks/${id(webhookId)}`, input), `webhook ${webhookId}`),
    remove: (webhookId) => call('DELETE', (ws) => `/workspaces/${ws}/webhooks/${id(webhookId)}`),
    test: async (webhookId) => {
      const result = await call('POST', (ws) => `/workspaces/${ws}/webhooks/${id(webhookId)}/tests`);
      if (!result.ok) return result;
      return isObject(result.value)
        ? ok(result.value as TestRun)
        : fail('bad-response', `UP42 returned no test results for webhook ${webhookId}`);
    },
  };
}
