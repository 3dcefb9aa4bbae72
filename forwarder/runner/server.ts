import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { answerClientErrors } from '../../http/client-error.js';
import { answerThenLinger } from '../../http/linger.js';
import { formatUrl, listen } from '../../http/listen.js';
import { allowHalfOpenRequests } from '../../http/node-internals.js';
import { readBody } from '../../http/read-body.js';
import type { RunnerConfig } from '../../shared/config.js';
import type { Env } from '../../shared/env.js';
import { loadManifest, MANIFEST_PATH, REPO_ROOT, type Manifest, type ManifestStep } from '../manifest.js';
import type { HttpTriggerEvent } from '../pipedream.js';
import { openParking } from './parking.js';
import { componentOf, installDefineComponent, isComponent } from './runtime.js';
import { HTTP_STATUS, runWorkflow, type LoadedStep, type RunResult } from './workflow.js';

/**
 * The local runner: an HTTP endpoint that turns each request into `steps.trigger.event` the way Pipedream's
 * HTTP trigger does, runs the steps of pipedream.yaml on it, and answers with the outcome.
 */

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface RunnerOptions {
  log?: (line: string) => void;
  manifestPath?: string;
  /** Where the manifest's source paths start. */
  root?: string;
  /** Pipedream's default step timeout is 30 s. */
  stepTimeoutMs?: number;
  maxBodyBytes?: number;
  /** Called after every run, with everything the steps exported. */
  onRun?: (result: RunResult, event: HttpTriggerEvent) => void;
  /** The workflow as a bundle carries it; then neither the manifest nor the step sources are read. */
  built?: BuiltWorkflow;
}

/**
 * The manifest a bundle was built from and its steps' modules, keyed by `source`: a bundled runner runs under
 * plain node, which cannot import the TypeScript sources the manifest names.
 */
export interface BuiltWorkflow {
  manifest: Manifest;
  modules: Readonly<Record<string, unknown>>;
}

export interface RunningRunner {
  url: string;
  host: string;
  port: number;
  manifest: Manifest;
  close(): Promise<void>;
}

/** Imports each step's source module; `defineComponent` must exist before they evaluate. */
export async function loadSteps(manifest: Manifest, env: Env, root: string = REPO_ROOT): Promise<LoadedStep[]> {
  installDefineComponent();
  const steps: LoadedStep[] = [];
  for (const step of manifest.steps) steps.push(stepOf(step, await import(resolve(root, step.source)), env));
  return steps;
}

/** The steps of a bundle, in the order of the manifest it was built from. */
export function builtSteps(built: BuiltWorkflow, env: Env): LoadedStep[] {
  return built.manifest.steps.map((step) => stepOf(step, built.modules[step.source], env));
}

function stepOf(step: ManifestStep, module: unknown, env: Env): LoadedStep {
  const component = componentOf(module, env);
  if (!isComponent(component)) throw new Error(`${step.source} does not export a component with run() by default`);
  return { name: step.name, component };
}

const isJsonType = (contentType: string | undefined) =>
  /^\s*application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType ?? '');

/** `steps.trigger.event` as Pipedream's HTTP trigger builds it (the raw body goes in `raw_event`). */
export function triggerEvent(
  req: IncomingMessage,
  raw: string,
  fallbackHost: string,
): { ok: true; event: HttpTriggerEvent } | { ok: false; message: string } {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  let body: unknown = raw;
  if (raw.trim() === '') body = {};
  else if (isJsonType(headers['content-type'])) {
    try {
      body = JSON.parse(raw);
    } catch {
      return { ok: false, message: 'the body is not valid JSON' };
    }
  }
  const url = new URL(req.url ?? '/', `http://${headers.host ?? fallbackHost}`);
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const prior = query[key];
    query[key] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  return {
    ok: true,
    event: {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      headers,
      body,
      url: url.toString(),
      client_ip: req.socket.remoteAddress ?? '',
    },
  };
}

const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 120) : undefined);

/** One line per request: what happened, to which event, how long it took. Never a header or a body. */
export function logLine(fields: {
  outcome: string;
  http: number;
  durationMs: number;
  reason?: string | undefined;
  event?: unknown;
  status?: unknown;
  messageId?: unknown;
}): string {
  return JSON.stringify({
    time: new Date().toISOString(),
    outcome: fields.outcome,
    http: fields.http,
    event: text(fields.event) ?? null,
    status: text(fields.status) ?? null,
    messageId: text(fields.messageId) ?? null,
    durationMs: fields.durationMs,
    reason: fields.reason ? fields.reason.slice(0, 300) : undefined,
  });
}

/** What the log line says about the event: the validate step's exports, else the (unverified) body. */
function eventFields(result: RunResult | null, body: unknown) {
  const from = Object.values(result?.steps ?? {}).find((exports) => 'messageId' in exports || 'event' in exports);
  if (from) return { event: from.event, status: from.status, messageId: from.messageId };
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const inner = (typeof b.body === 'object' && b.body !== null ? b.body : {}) as Record<string, unknown>;
  return { event: b.event, status: inner.status, messageId: b.messageId };
}

function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const body = typeof payload === 'string' ? payload : `${JSON.stringify(payload)}\n`;
  res.writeHead(status, {
    'content-type': typeof payload === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

/** An answer given before the body was read: the rest is read and discarded before the connection closes. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, payload: unknown): void {
  const body = `${JSON.stringify(payload)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  });
  answerThenLinger(req, res, body);
}

/** Without `dataDir` (an embedded runner), parked runs are kept in memory only. */
const statusText = (status: number) => (STATUS_CODES[status] ?? 'bad request').toLowerCase();

export async function startRunner(
  config: Omit<RunnerConfig, 'dataDir'> & { dataDir?: string },
  env: Env,
  options: RunnerOptions = {},
): Promise<RunningRunner> {
  const log = options.log ?? ((line: string) => console.log(line));
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const manifest = options.built?.manifest ?? (await loadManifest(options.manifestPath ?? MANIFEST_PATH));
  const root = options.root ?? REPO_ROOT;
  const steps = options.built ? builtSteps(options.built, env) : await loadSteps(manifest, env, root);
  const stepTimeout = options.stepTimeoutMs !== undefined ? { stepTimeoutMs: options.stepTimeoutMs } : {};
  let fallbackHost = `${config.host}:${config.port}`;
  const parking = await openParking({
    dir: config.dataDir === undefined ? null : resolve(config.dataDir),
    resume: (trigger, resume) => runWorkflow(steps, trigger, { ...stepTimeout, resume }),
    onResumed: (result, parked, durationMs) => {
      options.onRun?.(result, parked.trigger.event);
      const fields = eventFields(result, parked.trigger.event.body);
      const http = HTTP_STATUS[result.outcome];
      log(logLine({ outcome: result.outcome, http, durationMs, reason: result.reason, ...fields }));
    },
    onError: (message) => log(logLine({ outcome: 'error', http: 500, durationMs: 0, reason: message })),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    if (req.method === 'GET' && req.url === '/parked') return send(res, 200, { parked: parking.list() });
    const body = await readBody(req, limit);
    if (!body.ok) {
      const tooLarge = body.reason === 'too-large';
      const message = tooLarge ? `the body is larger than ${limit} bytes` : 'the request was cut off';
      const status = tooLarge ? 413 : 400;
      if (tooLarge) refuse(req, res, status, { outcome: 'bad-request', message });
      else send(res, status, { outcome: 'bad-request', message });
      log(logLine({ outcome: 'bad-request', http: status, durationMs: Date.now() - started, reason: message }));
      return;
    }
    const built = triggerEvent(req, body.body.toString('utf8'), fallbackHost);
    if (!built.ok) {
      send(res, 400, { outcome: 'bad-request', message: built.message });
      log(logLine({ outcome: 'bad-request', http: 400, durationMs: Date.now() - started, reason: built.message }));
      return;
    }
    const trigger = { event: built.event, raw_event: { body_b64: body.body.toString('base64') } };
    const result = await runWorkflow(steps, trigger, stepTimeout);
    const http = HTTP_STATUS[result.outcome];
    // Parked: on disk before the sender hears 202, as Pipedream keeps a run waiting on $.flow.rerun.
    const nextTryAt = result.parked ? (await parking.park(result, trigger)).nextTryAt : undefined;
    options.onRun?.(result, built.event);
    if (result.response) {
      const r = result.response;
      send(res, r.status, r.body ?? '', r.headers ?? {});
    } else {
      const last = result.steps[result.step ?? manifest.steps[manifest.steps.length - 1]!.name] ?? {};
      send(res, http, {
        outcome: result.outcome,
        // Unset fields are left out of the JSON.
        nextTryAt,
        reason: result.reason,
        step: result.step,
        message: result.message,
        summary: typeof last.$summary === 'string' ? last.$summary : undefined,
        steps: result.steps,
      });
    }
    log(
      logLine({
        outcome: result.outcome,
        http: result.response?.status ?? http,
        durationMs: Date.now() - started,
        reason: result.reason,
        ...eventFields(result, built.event.body),
      }),
    );
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Unreachable by design (runWorkflow catches every step failure); kept so bad input never crashes the runner.
      send(res, 500, { outcome: 'error', message: 'internal error' });
      log(
        logLine({
          outcome: 'error',
          http: 500,
          durationMs: 0,
          reason: error instanceof Error ? error.name : 'internal error',
        }),
      );
    });
  });
  allowHalfOpenRequests(server);
  answerClientErrors(server, {
    answer: (status) => ({
      headers: { 'content-type': 'application/json' },
      body: `${JSON.stringify({ outcome: 'bad-request', message: statusText(status) })}\n`,
    }),
  });
  const port = await listen(server, config.port, config.host);
  fallbackHost = `${config.host}:${port}`;
  return {
    url: formatUrl(config.host, port),
    host: config.host,
    port,
    manifest,
    close: () =>
      new Promise<void>((done) => {
        parking.close();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
