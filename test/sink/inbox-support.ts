/**
 * Support for the inbox page's browser tests: a real sink process on loopback, webhooks posted to it,
 * and the browser from test/support/browser.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/wait-for.js';
import { makeEvent, type Up42EventType } from '../../shared/events.js';
import { DATA_FILE } from '../../sink/store/file-store.js';
import { encodeRecord } from '../../sink/store/record.js';
import { webhookMeta } from '../../sink/webhook-meta.js';
import { sinkEnv } from './sink-support.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SINK_ENTRY = 'sink/main.ts';

export { allowNotifications, launchChromium } from '../support/browser.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface SinkProcess {
  url: string;
  port: number;
  /** stderr so far, for failure messages (the sink never prints its password). */
  stderr: () => string;
  stop: () => Promise<void>;
}

export interface SinkOptions {
  dataDir: string;
  credentials: Credentials;
  port?: number;
  store?: 'file' | 'memory';
  maxBytes?: number;
}

/** Starts `npm start`'s entry point on 127.0.0.1 and resolves once it prints where it listens. */
export async function startSink(options: SinkOptions): Promise<SinkProcess> {
  // A clean environment: nothing from the developer's shell or the checkout's .env (an ngrok token, a
  // smaller body limit) reaches the sink.
  const env = sinkEnv({
    SINK_PORT: String(options.port ?? 0),
    SINK_DATA_DIR: options.dataDir,
    SINK_STORE: options.store ?? 'file',
    SINK_BASIC_AUTH_USER: options.credentials.username,
    SINK_BASIC_AUTH_PASS: options.credentials.password,
    ...(options.maxBytes === undefined ? {} : { SINK_MAX_BYTES: String(options.maxBytes) }),
  });
  const child = spawn(process.execPath, ['--import', 'tsx', SINK_ENTRY], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('the sink did not say where it listens within 20 s')), 20_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 8000) stdout += d;
      const m = /listening on (http:\/\/[^\s/]+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code, signal) => fail(new Error(`the sink exited early (${code ?? signal})`)));
  });
  // Keep draining its output (access log lines) so the pipe never fills and blocks it.
  child.stdout!.resume();
  child.removeAllListeners('exit');
  return {
    url,
    port: Number(new URL(url).port),
    stderr: () => stderr,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export function basicAuth(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/**
 * POSTs a webhook body as the forwarder would and returns the key the sink stored it under: serialised, or
 * with `raw`, the string sent byte for byte.
 */
export async function postWebhook(
  sink: SinkProcess,
  c: Credentials,
  body: unknown,
  options: { raw?: boolean } = {},
): Promise<number> {
  const res = await fetch(`${sink.url}/receive-webhooks`, {
    method: 'POST',
    headers: { authorization: basicAuth(c), 'content-type': 'application/json' },
    body: options.raw && typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST /receive-webhooks answered ${res.status}: ${text}`);
  const m = /value with key (\d+) stored/.exec(text);
  if (!m) throw new Error(`unexpected answer to POST /receive-webhooks: ${text}`);
  return Number(m[1]);
}

export async function getJson<T>(sink: SinkProcess, c: Credentials, route: string, method = 'GET'): Promise<T> {
  const res = await fetch(`${sink.url}${route}`, { method, headers: { authorization: basicAuth(c) } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** A UP42-shaped delivery with a fresh message id (the sink deduplicates by message id). */
export function webhook(
  event: Up42EventType,
  status: string,
  liveMode: boolean,
  extra: Record<string, unknown> = {},
): ReturnType<typeof makeEvent> {
  const base = makeEvent({ event, status, liveMode, messageId: randomUUID(), timestamp: new Date().toISOString() });
  return { ...base, body: { ...base.body, ...extra } } as ReturnType<typeof makeEvent>;
}

/**
 * Writes a store file holding `bodies` under keys 1..n, in the sink's record format through its own
 * encoder, for the sink to replay at start: thousands of webhooks without thousands of requests.
 */
export async function writeStoreFile(dataDir: string, bodies: readonly unknown[], receivedAtMs: number): Promise<void> {
  const lines = bodies.map(
    (value, i) => encodeRecord(i + 1, receivedAtMs + i, webhookMeta(value), Buffer.from(JSON.stringify(value))).line,
  );
  await writeFile(path.join(dataDir, DATA_FILE), Buffer.concat(lines));
}

/** Polls `check` until it stops throwing; fails with its last error. The page updates asynchronously. */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 8000): Promise<void> {
  // The shared waitFor does the polling; the last failed assertion is rethrown so its diff shows.
  let last: unknown;
  const passes = async () => {
    try {
      await check();
      return true;
    } catch (err) {
      last = err;
      return false;
    }
  };
  await waitFor(passes, { what: 'the page to settle', timeoutMs, intervalMs: 50 }).catch((timeout: unknown) => {
    throw last ?? timeout;
  });
}
