import { parseForwardConfig, type ForwardConfig } from '../../shared/config.js';
import { forwardToSink, pingSink, systemClock, type SinkTransport } from '../forward.js';
import { stringBindings } from './bindings.js';
import {
  drainBatch,
  judgeTry,
  mayStart,
  planNextTry,
  REFUSAL_RETRY_MS,
  REFUSALS_BEFORE_ASIDE,
  type Kept,
  type TryOutcome,
} from './outbox-plan.js';
import {
  delivered,
  dueAside,
  failed,
  lineHead,
  move,
  nextAsideAt,
  noteSink,
  noteTry,
  pruneFailed,
  readMeta,
  type Db,
  type Table,
  type WithBody,
} from './outbox-store.js';
import type { DurableObjectStorage, WorkerEnv } from './runtime-types.js';
import { sinkExchange } from './sink-fetch.js';

/**
 * One drain of the outbox, run by its alarm. One `GET /ping` per batch; if the sink answers PONG, deliveries are
 * POSTed without pinging again while the invocation's 50 subrequests allow (mayStart), first those that
 * stepped aside and are due, then the line from its head. A full batch asks for another invocation at once.
 *
 * The line's deliveries that landed are removed together, once the batch stops: a write before each POST
 * would hold it until the write is durable (the runtime's output gate). Should the invocation die in between,
 * those deliveries are POSTed again and the sink, which stores each messageId once, answers them as duplicates.
 *
 * While the sink is away (no PONG, a network error, ngrok's edge answering for it), the line keeps its order:
 * only its head is tried, on the FORWARD_PARK_DELAYS schedule counted by the line's streak; those behind inherit
 * the streak when they become the head. None of this lists the line.
 */

export interface DrainHost {
  storage: DurableObjectStorage;
  db: Db;
  woken: boolean;
  log(line: string): void;
  retryLater(cause: string): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function drain(host: DrainHost, env: WorkerEnv): Promise<void> {
  host.woken = false;
  const parsed = parseForwardConfig(stringBindings(env));
  if (!parsed.ok) return host.retryLater(parsed.message);
  const config = parsed.value;
  const { db } = host;
  const now = Date.now();
  pruneFailed(db, now);
  const batch = drainBatch(config.maxAttempts);
  const aside = dueAside(db, now, batch);
  const head = lineHead(db);
  if (head === null && aside.length === 0) return settle(host);
  // An early alarm (an arrival or a wake raced with a plan): wait for the head's own time.
  if (aside.length === 0 && head !== null && head.nextTryAtMs !== null && head.nextTryAtMs > now)
    return host.storage.setAlarm(head.nextTryAtMs);

  const used = { count: 0 };
  const pinged = await pingSink(config, counted(sinkExchange().transport, used));
  if (!pinged.ok) return sinkAway(host, config, `${pinged.reason}: ${pinged.message}`, aside);

  for (const k of aside) {
    const outcome = await post(k, config, used);
    if (outcome.outcome === 'away') return sinkAway(host, config, outcome.cause, aside.slice(aside.indexOf(k)));
    settleTry(host, 'aside', k, outcome, config, k.refusals + 1 - REFUSALS_BEFORE_ASIDE);
  }
  const landed: Kept[] = [];
  const flush = () => {
    const now = Date.now();
    host.storage.transactionSync(() => landed.forEach((k) => delivered(db, 'line', k, now)));
    for (const k of landed) host.log(`seq ${k.seq} delivered (${k.messageId ?? 'no messageId'})`);
    landed.length = 0;
  };
  let after = 0;
  while (mayStart(used.count, config.maxAttempts)) {
    const k = lineHead(db, after);
    if (k === null) {
      flush();
      return settle(host);
    }
    const outcome = await post(k, config, used);
    after = k.seq;
    if (outcome.outcome === 'delivered') {
      landed.push(k);
      continue;
    }
    flush();
    if (outcome.outcome === 'away') return sinkAway(host, config, outcome.cause, []);
    if (outcome.outcome === 'troubled' && k.refusals + 1 < REFUSALS_BEFORE_ASIDE) {
      const triedAt = Date.now();
      const at = triedAt + REFUSAL_RETRY_MS;
      noteTry(db, 'line', tried(k, outcome.cause, triedAt, { refusals: k.refusals + 1, nextTryAtMs: at }));
      host.log(`seq ${k.seq} refused with 5xx (${k.refusals + 1} of ${REFUSALS_BEFORE_ASIDE}), again at ${iso(at)}`);
      return host.woken ? host.storage.setAlarm(Date.now()) : host.storage.setAlarm(at);
    }
    settleTry(host, 'line', k, outcome, config, 1);
  }
  flush();
  // More may wait: go on in a fresh invocation, with fresh subrequests.
  await host.storage.setAlarm(Date.now());
}

/** The transport, counting the subrequests it makes. */
const counted =
  (transport: SinkTransport, used: { count: number }): SinkTransport =>
  (request) => {
    used.count++;
    return transport(request);
  };

async function post(k: WithBody, config: ForwardConfig, used: { count: number }): Promise<TryOutcome> {
  const exchange = sinkExchange();
  // The kept bytes, exactly as UP42 sent them, with its signature, so the sink stores and can verify them.
  const raw = { text: k.body, contentType: k.contentType, signedHeaders: k.signedHeaders };
  const transport = counted(exchange.transport, used);
  const result = await forwardToSink(null, config, transport, systemClock, raw, { ping: false });
  return judgeTry(result, exchange.last);
}

/** `k` after a try at `now`: the same clock reading as the plan made from it, so its wait is exactly the delay. */
const tried = (k: Kept, cause: string, now: number, more: Partial<Kept> = {}): Kept => ({
  ...k,
  attempts: k.attempts + 1,
  lastTryAtMs: now,
  cause,
  ...more,
});

/** What a try that did not find the sink away does to a delivery: delivered, failed, or stepped aside. */
function settleTry(host: DrainHost, from: Table, k: Kept, outcome: TryOutcome, config: ForwardConfig, n: number) {
  const { db, storage } = host;
  const now = Date.now();
  if (outcome.outcome === 'delivered') {
    storage.transactionSync(() => delivered(db, from, k, now));
    host.log(`seq ${k.seq} delivered (${k.messageId ?? 'no messageId'})${outcome.duplicate ? ', a duplicate' : ''}`);
    return;
  }
  const cause = outcome.outcome === 'away' ? 'away' : outcome.cause;
  const next = tried(k, cause, now, { refusals: k.refusals + (outcome.outcome === 'troubled' ? 1 : 0) });
  const plan =
    outcome.outcome === 'troubled' ? planNextTry(next, n, config.parkDelaysSeconds, config.parkMaxHours, now) : null;
  if (plan === null || plan.action === 'give-up') {
    storage.transactionSync(() => failed(db, from, plan === null ? next : { ...next, cause: plan.cause }, now));
    host.log(`seq ${k.seq} failed: ${plan === null ? cause : plan.cause}`);
    return;
  }
  const aside = { ...next, nextTryAtMs: plan.nextTryAtMs };
  storage.transactionSync(() => (from === 'aside' ? noteTry(db, 'aside', aside) : move(db, 'line', 'aside', aside)));
  host.log(`seq ${k.seq} stepped aside until ${iso(plan.nextTryAtMs)}: ${cause}`);
}

/**
 * The sink is away: the head waits for the next delay of the line's streak (or, past FORWARD_PARK_MAX_HOURS, is
 * marked failed and the next head planned the same way); due deliveries that stepped aside wait as long.
 */
async function sinkAway(host: DrainHost, config: ForwardConfig, cause: string, aside: Kept[]): Promise<void> {
  const { db, storage } = host;
  const now = Date.now();
  const meta = readMeta(db);
  const streak = meta.streak + 1;
  let nextTryAtMs = now + (config.parkDelaysSeconds[0] ?? 60) * 1000;
  for (let given = 0; ; given++) {
    const head = lineHead(db);
    if (head === null) break;
    const next = tried(head, cause, now);
    const plan = planNextTry(next, streak, config.parkDelaysSeconds, config.parkMaxHours, now);
    if (plan.action === 'retry') {
      nextTryAtMs = plan.nextTryAtMs;
      // A wake while this try was under way: the sink says it is back, so the head is tried again at once.
      noteTry(db, 'line', { ...next, nextTryAtMs: host.woken ? null : nextTryAtMs });
      host.log(`seq ${head.seq} parked until ${iso(nextTryAtMs)}: ${cause}`);
      break;
    }
    storage.transactionSync(() => failed(db, 'line', { ...next, cause: plan.cause }, now));
    host.log(`seq ${head.seq} failed: ${plan.cause}`);
    if (given >= drainBatch(config.maxAttempts)) return storage.setAlarm(now);
  }
  for (const k of aside) noteTry(db, 'aside', { ...k, nextTryAtMs });
  const since = meta.sink_away === 1 ? meta.sink_since_ms : now;
  noteSink(db, { away: true, since, cause, nextTryAtMs }, streak);
  const asideAt = nextAsideAt(db);
  await storage.setAlarm(host.woken ? now : Math.min(nextTryAtMs, asideAt ?? Infinity));
}

/** Nothing due: the sink state is as last seen; the next alarm is the next delivery aside's, if any. */
async function settle(host: DrainHost): Promise<void> {
  const at = nextAsideAt(host.db);
  if (host.woken) await host.storage.setAlarm(Date.now());
  else if (at !== null) await host.storage.setAlarm(at);
}
