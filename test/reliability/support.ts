/**
 * Support for the reliability suite: a seeded PRNG, loopback ports, spawned sinks on a fixed port, a load of
 * concurrent webhook clients that records what each request got, dump parsing, raw TCP exchanges, and a
 * collector of everything the processes said, checked for secrets, and the teardown of in-process servers.
 */
import { connect } from 'node:net';
import { Agent, request } from 'node:http';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { destroyAgent, type TestSink } from '../sink/sink-support.js';

export const LONG =
  process.env.RELIABILITY_LONG !== undefined &&
  process.env.RELIABILITY_LONG !== '' &&
  process.env.RELIABILITY_LONG !== '0';
export const HERE = path.dirname(fileURLToPath(import.meta.url));

/** mulberry32: small, fast, good enough to pick delays and bytes reproducibly from a logged seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from RELIABILITY_SEED, else a fresh one; printed by the caller so a failure can be replayed. */
export function seedFromEnv(): number {
  const raw = process.env.RELIABILITY_SEED;
  if (raw !== undefined && /^\d+$/.test(raw)) return Number(raw) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

export { freePort } from '../support/ports.js';

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

// ---- webhook clients ----

export interface Sent {
  id: string;
  body: string;
}

export type Outcome =
  | { kind: 'stored' | 'duplicate'; key: number }
  | { kind: 'status'; status: number; text: string }
  | { kind: 'no-reply'; error: string };

const STORED = /^\{"msg": "value with key (\d+) (stored|already stored)"\}\n$/;

/** One POST /receive-webhooks on `agent`; never throws. */
export function postWebhook(
  agent: Agent,
  base: string,
  body: string,
  headers: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(
      `${base}/receive-webhooks`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const m = res.statusCode === 200 ? STORED.exec(text) : null;
          if (m) resolve({ kind: m[2] === 'stored' ? 'stored' : 'duplicate', key: Number(m[1]) });
          else resolve({ kind: 'status', status: res.statusCode!, text });
        });
        res.on('error', (err) => resolve({ kind: 'no-reply', error: err.message }));
        res.on('aborted', () => resolve({ kind: 'no-reply', error: 'aborted' }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ kind: 'no-reply', error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end(body);
  });
}

let counter = 0;
/** A UP42-shaped webhook body with a unique messageId and some bytes that must survive exactly. */
export function webhookBody(tag: string, rand: () => number): Sent {
  counter += 1;
  const id = `${tag}-${process.pid}-${counter}-${Math.floor(rand() * 1e9).toString(36)}`;
  const pad = 'é✓ "quoted" \\ tab\t'.repeat(Math.floor(rand() * 8));
  const body = JSON.stringify({
    event: 'job.status',
    messageId: id,
    liveMode: true,
    timestamp: new Date().toISOString(),
    body: { jobId: id, status: rand() < 0.5 ? 'FAILED' : 'SUCCEEDED', note: pad },
  });
  // Now and then a body whose bytes are not what JSON.stringify would make: spacing must be kept as received.
  // (One line: the dump compacts a body with line breaks onto one line, by design.)
  return { id, body: rand() < 0.2 ? body.replace(/,"/g, ' ,\t "').replace(/^\{/, '{   ') : body };
}

/** What a load run produced: every request sent, with what it got. */
export interface LoadLog {
  results: { sent: Sent; outcome: Outcome }[];
}

/**
 * `clients` workers posting fresh webhooks back to back until `stop()` resolves, `retry` bodies first.
 * Each worker has its own keep-alive agent, like separate clients.
 */
export function runLoad(options: {
  base: string;
  clients: number;
  rand: () => number;
  tag: string;
  retry?: Sent[];
  headers?: Record<string, string>;
  /** Stop after this many requests per client (otherwise only `stop()` ends it). */
  perClient?: number;
}): { stop: () => Promise<LoadLog>; log: LoadLog } {
  const log: LoadLog = { results: [] };
  let stopping = false;
  const retry = [...(options.retry ?? [])];
  const agents: Agent[] = [];
  const worker = async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    let n = 0;
    while (!stopping && (options.perClient === undefined || n < options.perClient)) {
      n += 1;
      const sent = retry.shift() ?? webhookBody(options.tag, options.rand);
      const outcome = await postWebhook(agent, options.base, sent.body, options.headers);
      log.results.push({ sent, outcome });
      // A dead server answers every new connection at once with ECONNREFUSED: do not spin on it.
      if (outcome.kind === 'no-reply') await sleep(20);
    }
  };
  const workers = Array.from({ length: options.clients }, worker);
  const all = Promise.all(workers);
  return {
    log,
    stop: async () => {
      stopping = true;
      await all;
      for (const a of agents) a.destroy();
      return log;
    },
  };
}

// ---- the dump ----

export interface DumpedRecord {
  key: number;
  messageId: string | null;
  /** The body line exactly as dumped (the body bytes as received, for a JSON body). */
  body: string;
}

/** GET /dump-webhooks?envelope=1 parsed into records; the count line is checked against them. */
export async function fetchEnvelopeDump(base: string, headers: Record<string, string> = {}): Promise<DumpedRecord[]> {
  const text = await get(base, '/dump-webhooks?envelope=1', headers);
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('the dump does not end with a newline');
  const last = lines.pop();
  const m = /^\{"number_webhooks_received": (\d+)\}$/.exec(last ?? '');
  if (!m) throw new Error(`the dump does not end with its count line: ${last}`);
  if (Number(m[1]) !== lines.length) throw new Error(`the count line says ${m[1]}, the dump has ${lines.length} lines`);
  return lines.map((line) => {
    const head = /^\{"key":(\d+),"receivedAt":"[^"]+","messageId":("(?:[^"\\]|\\.)*"|null),.*?,"body":/.exec(line);
    if (!head || !line.endsWith('}')) throw new Error(`not an envelope line: ${line.slice(0, 200)}`);
    return {
      key: Number(head[1]),
      messageId: JSON.parse(head[2]!) as string | null,
      body: line.slice(head[0].length, -1),
    };
  });
}

export function get(base: string, pathAndQuery: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${pathAndQuery}`, { headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`GET ${pathAndQuery}: ${res.statusCode} ${text}`));
        else resolve(text);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The crash-safety invariants of a dump against everything the clients were told:
 * keys 1..N without gap or duplicate; every acknowledged webhook under its key with its exact body; every
 * body stored at most once; nothing stored that nobody sent. Returns the problems found (empty: all hold).
 */
export function checkDump(records: DumpedRecord[], sent: Map<string, { body: string; key: number | null }>): string[] {
  const problems: string[] = [];
  const byId = new Map<string, DumpedRecord>();
  records.forEach((r, i) => {
    if (r.key !== i + 1) problems.push(`line ${i + 1} has key ${r.key}`);
    if (r.messageId === null) problems.push(`key ${r.key} has no messageId`);
    else if (byId.has(r.messageId))
      problems.push(`${r.messageId} is stored twice (keys ${byId.get(r.messageId)!.key} and ${r.key})`);
    else byId.set(r.messageId, r);
    const mine = r.messageId === null ? undefined : sent.get(r.messageId);
    if (!mine) problems.push(`key ${r.key} holds a webhook nobody sent: ${r.body.slice(0, 120)}`);
    else if (mine.body !== r.body) problems.push(`key ${r.key} (${r.messageId}) holds other bytes than were sent`);
  });
  for (const [id, s] of sent) {
    if (s.key === null) continue;
    const r = byId.get(id);
    if (!r) problems.push(`${id} got a 200 with key ${s.key} and is not in the dump`);
    else if (r.key !== s.key) problems.push(`${id} got key ${s.key} and is stored under ${r.key}`);
  }
  return problems.slice(0, 20);
}

// ---- raw TCP ----

export type Part = string | { hex: string } | { repeat: string; times: number } | { pause: number };

export const partBytes = (p: Exclude<Part, { pause: number }>): Buffer =>
  typeof p === 'string'
    ? Buffer.from(p, 'utf8')
    : 'hex' in p
      ? Buffer.from(p.hex.replace(/\s+/g, ''), 'hex')
      : Buffer.from(p.repeat.repeat(p.times), 'utf8');

export interface RawReply {
  /** Everything the server sent, latin1. */
  data: string;
  /** The status of each response found in `data`, in order. */
  statuses: number[];
  /** How the exchange ended: the server closed, or we gave up waiting. */
  ended: 'closed' | 'waited';
}

/**
 * Writes `parts` to a fresh connection (pauses included), then half-closes when `endWrite`, or destroys
 * at once when `abort`, and collects what comes back until the server closes or `waitMs` passes.
 */
export function rawExchange(
  port: number,
  parts: readonly Part[],
  options: { endWrite?: boolean; abort?: boolean; waitMs?: number } = {},
): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (ended: RawReply['ended']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks).toString('latin1');
      const statuses = [...data.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ data, statuses, ended });
    };
    let timer: NodeJS.Timeout = setTimeout(() => finish('waited'), 60_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => finish('closed'));
    socket.on('error', () => finish('closed'));
    socket.once('connect', async () => {
      for (const part of parts) {
        if (typeof part === 'object' && 'pause' in part) await sleep(part.pause);
        else if (!socket.destroyed) socket.write(partBytes(part));
      }
      if (options.abort) return finish('closed');
      if (options.endWrite) socket.end();
      clearTimeout(timer);
      timer = setTimeout(() => finish('waited'), options.waitMs ?? 3_000);
    });
  });
}

// ---- the corpus ----

export async function loadCorpus<T>(name: string): Promise<T> {
  return JSON.parse(await readFile(path.join(HERE, 'corpus', name), 'utf8')) as T;
}

// ---- secrets ----

/** Everything the processes printed and answered during a file's tests, checked for secrets in afterAll. */
export function leakCollector() {
  const seen: string[] = [];
  return {
    add: (...texts: string[]) => void seen.push(...texts),
    /** The secrets (and their encodings) found anywhere in what was collected. */
    leaks(secrets: readonly string[]): string[] {
      const found: string[] = [];
      for (const s of secrets) {
        for (const form of [s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)]) {
          if (seen.some((t) => t.includes(form)))
            found.push(`a secret of ${s.length} characters (as ${form === s ? 'is' : 'encoded'})`);
        }
      }
      return [...new Set(found)];
    },
    get size() {
      return seen.length;
    },
  };
}

/** Stops the sinks a suite started in its own process, and removes their data. */
export async function stopInProcess(sinks: readonly TestSink[], dataDir: string): Promise<void> {
  for (const sink of sinks) await sink.close();
  destroyAgent();
  await rm(dataDir, { recursive: true, force: true });
}
