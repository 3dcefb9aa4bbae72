import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { isEntryPoint } from '../../scripts/cli/entry-point.js';

/*
 * The child process of the Pipedream stand-in (pipedream-standin.ts): one workflow, its environment the
 * process's own (as a Pipedream workflow's variables are `process.env` to its steps), its steps the BUILT files
 * of `npm run build:pipedream`. It listens on loopback as the workflow's HTTP trigger: a request becomes
 * `steps.trigger.event` (headers lower-cased, a JSON body parsed) and `steps.trigger.raw_event` (the body
 * base64-encoded), the steps run in order, and the answer is the run's record as JSON (Pipedream itself answers
 * 200 at once; the record is what its event history would show). POST /__standin/run runs a given trigger,
 * props or a rerun instead. From Pipedream's documentation: code steps call the global `defineComponent` and get
 * `{ steps, $ }`; actions are plain objects whose `run` gets `{ $ }` with the props as `this`; `$.export`,
 * `$.flow.exit` (ends the workflow after the step; `return $.flow.exit()` ends the step at once) and
 * `$.flow.rerun(delayMs, context, maxRetries)` (the step runs again after the delay, as run
 * `$.context.run.runs` + 1 with `context` in `$.context.run.context`). `raw_event.body_b64` is as Pipedream's
 * examples of decoding a raw HTTP payload show it (its trigger reference describes `event` only). The stand-in
 * records a rerun rather than waiting: the test runs the step again. Assumed: exports and contexts are kept as
 * JSON, as Pipedream stores them.
 */

export interface Trigger {
  event: {
    method: string;
    path: string;
    query: Record<string, string>;
    headers: Record<string, string>;
    body: unknown;
    url: string;
    client_ip: string;
  };
  /** Absent where a trigger gives no raw event (the steps then serialise the parsed body again). */
  raw_event?: { body_b64?: string };
}

export interface RunSpec {
  trigger: Trigger;
  /** Actions only: each step's props by step name. */
  props?: Record<string, Record<string, unknown>>;
  /** A rerun: start at this step, with the earlier steps' records and the run Pipedream hands it. */
  from?: string;
  steps?: Record<string, Record<string, unknown>>;
  run?: { runs: number; context?: unknown };
}

export interface WorkflowRun {
  steps: Record<string, Record<string, unknown>>;
  exit: { step: string; reason: string | null } | null;
  error: { step: string; name: string; code?: string; reason?: string; message: string } | null;
  /** `$.flow.rerun` calls, each with the run (`$.context.run.runs`) of the step that asked. */
  reruns: { step: string; delayMs: number; context: unknown; maxRetries: number; run: number }[];
  /** How many components the steps passed to the global defineComponent (0 for actions). */
  defined: number;
  components: {
    key: unknown;
    name: unknown;
    version: unknown;
    type: unknown;
    props: Record<string, Record<string, unknown>>;
  }[];
}

interface Component {
  key?: unknown;
  name?: unknown;
  version?: unknown;
  type?: unknown;
  props?: unknown;
  run(this: unknown, context: unknown): unknown;
}

/** The components the global `defineComponent` was given, as the built code steps evaluated. */
const DEFINED = new WeakSet<object>();

/** Pipedream's global for code steps; a published action must run without it. */
function installDefineComponent(): void {
  (globalThis as { defineComponent?: (c: Component) => Component }).defineComponent = (component) => {
    DEFINED.add(component);
    return component;
  };
}

const json = <T>(value: T): T => (value === undefined ? (null as T) : (JSON.parse(JSON.stringify(value)) as T));

/** Pipedream's default for `$.flow.rerun`'s third argument. */
const DEFAULT_MAX_RETRIES = 10;

export async function runWorkflow(
  files: { name: string; path: string }[],
  kind: 'step' | 'action',
  spec: RunSpec,
): Promise<WorkflowRun> {
  const out: WorkflowRun = {
    steps: { ...spec.steps },
    exit: null,
    error: null,
    reruns: [],
    defined: 0,
    components: [],
  };
  const steps: Record<string, unknown> = { trigger: spec.trigger, ...spec.steps };
  const first = spec.from === undefined ? 0 : files.findIndex((f) => f.name === spec.from);
  for (const file of files.slice(first)) {
    const component = ((await import(pathToFileURL(file.path).href)) as { default: Component }).default;
    const { key, name, version, type, props } = component;
    if (DEFINED.has(component)) out.defined += 1;
    out.components.push(json({ key, name, version, type, props: props as WorkflowRun['components'][number]['props'] }));
    const exports: Record<string, unknown> = {};
    const run = file.name === spec.from && spec.run ? spec.run : { runs: 1 };
    let exit: string | null | undefined;
    const $ = {
      export: (k: string, v: unknown) => (exports[k] = json(v)),
      flow: {
        exit: (reason?: string) => void (exit = reason ?? null),
        rerun: (delayMs: number, context: unknown, maxRetries?: number) =>
          void out.reruns.push({
            step: file.name,
            delayMs,
            context: json(context),
            maxRetries: maxRetries ?? DEFAULT_MAX_RETRIES,
            run: run.runs,
          }),
      },
      context: { run },
    };
    try {
      const self = kind === 'action' ? { ...spec.props?.[file.name] } : {};
      const value = await component.run.call(self, kind === 'action' ? { $ } : { steps, $ });
      out.steps[file.name] = { ...exports, $return_value: json(value) };
      steps[file.name] = out.steps[file.name];
    } catch (error) {
      const e = error as { name?: string; code?: string; reason?: string; message?: string };
      out.steps[file.name] = exports;
      out.error = { step: file.name, name: String(e.name), code: e.code, reason: e.reason, message: String(e.message) };
      break;
    }
    if (exit !== undefined) {
      out.exit = { step: file.name, reason: exit };
      break;
    }
    // Pipedream waits at the end of a step that asked for a rerun: the later steps run after it.
    if (out.reruns.some((r) => r.step === file.name)) break;
  }
  return out;
}

/** `steps.trigger` of Pipedream's HTTP trigger for one request, as its documentation describes it. */
export function triggerOf(req: IncomingMessage, body: Buffer): Trigger {
  const url = new URL(req.url ?? '/', 'https://standin.m.pipedream.net');
  const headers: Record<string, string> = {};
  // node:http lower-cases header names, as Pipedream does; repeated headers are joined.
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const text = body.toString('utf8');
  let parsed: unknown = text;
  if (/json/i.test(headers['content-type'] ?? '')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // Assumed: a body that is not JSON reaches the steps as text.
    }
  }
  return {
    event: {
      method: req.method ?? 'POST',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: parsed,
      url: url.href,
      client_ip: req.socket.remoteAddress ?? '',
    },
    raw_event: { body_b64: body.toString('base64') },
  };
}

async function serve(): Promise<void> {
  const { files, kind } = JSON.parse(process.argv[2]!) as {
    files: { name: string; path: string }[];
    kind: 'step' | 'action';
  };
  if (kind === 'step') installDefineComponent();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const spec: RunSpec =
      req.url === '/__standin/run' ? (JSON.parse(body.toString('utf8')) as RunSpec) : { trigger: triggerOf(req, body) };
    const run = await runWorkflow(files, kind, spec);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(run));
  });
  server.listen(0, '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

if (isEntryPoint(import.meta.url)) await serve();
