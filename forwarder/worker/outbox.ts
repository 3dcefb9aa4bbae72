import { parseForwardConfig, type ForwardConfig } from '../../shared/config.js';
import { forwardToSink, systemClock } from '../forward.js';
import { describeKept, judgeTry, planLine, seqKey, type Kept } from './outbox-plan.js';
import type { DurableObjectState, DurableObjectStorage, WorkerEnv } from './runtime-types.js';
import { sinkExchange } from './sink-fetch.js';
import { stringBindings } from './bindings.js';

/**
 * The outbox: one Durable Object that keeps every accepted delivery until the sink has stored it, in arrival
 * order. An alarm drains it; while the sink is away the head of the line waits on the FORWARD_PARK_DELAYS
 * schedule (the last delay repeating) and everything behind it waits too, so the sink receives them in order.
 * A delivery still undelivered FORWARD_PARK_MAX_HOURS after it arrived is marked failed and kept.
 *
 * Storage keys: `waiting:<seq>` and `failed:<seq>` (zero-padded, so listing is arrival order), `body:<seq>`
 * for each body (up to 1 MiB; SQLite-backed objects take values up to 2 MB), and one key per counter, each
 * written by one side only: `meta:next-seq` on arrival, the others by the drain (an arrival can come in while
 * the drain awaits the sink).
 */

export interface KeepRequest {
  body: string;
  /** UP42's signature for the sink (shared/signed-headers.ts); null when the delivery had none to pass on. */
  signedHeaders?: string | null;
  messageId: string | null;
  event: string | null;
  status: string | null;
}

/** What the sink's state looks like from here; written by the drain. */
interface SinkState {
  away: boolean;
  since: number | null;
  cause: string | null;
  nextTryAtMs: number | null;
}

/** Deliveries per alarm: with the default 4 attempts each at ping and POST, within 50 subrequests. */
export const DRAIN_BATCH = 5;
/** Deliveries of each state that `GET /outbox` lists (it counts them all). */
const VIEW_LIMIT = 1000;
/** A configuration problem is retried after this long (the fix is a redeploy, which wakes the outbox anyway). */
const CONFIG_RETRY_MS = 60_000;

const json = (status: number, value: unknown) =>
  new Response(`${JSON.stringify(value, null, 2)}\n`, { status, headers: { 'content-type': 'application/json' } });

export class Outbox {
  private readonly storage: DurableObjectStorage;

  constructor(
    state: DurableObjectState,
    private readonly env: WorkerEnv,
  ) {
    this.storage = state.storage;
    // Whatever wakes the object (an arrival, GET /outbox, a restart of the local runtime) makes sure a
    // waiting delivery has an alarm.
    void state.blockConcurrencyWhile(() => this.ensureAlarm());
  }

  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (request.method === 'POST' && path === '/keep')
      return json(201, await this.keep((await request.json()) as KeepRequest));
    if (request.method === 'GET' && path === '/outbox') return json(200, await this.view());
    if (request.method === 'POST' && path === '/wake') {
      await this.ensureAlarm();
      return json(200, { waiting: (await this.list('waiting:', 1)).length > 0 });
    }
    return json(404, { message: 'not found' });
  }

  async alarm(): Promise<void> {
    try {
      await this.drain();
    } catch (error) {
      // Never let the alarm fail silently into the runtime's own retries: note why, and try again later.
      await this.noteSink({
        away: true,
        since: Date.now(),
        cause: `outbox error: ${String(error)}`,
        nextTryAtMs: Date.now() + CONFIG_RETRY_MS,
      });
      await this.storage.setAlarm(Date.now() + CONFIG_RETRY_MS);
    }
  }

  private async keep(request: KeepRequest): Promise<{ seq: number; waiting: number }> {
    const seq = ((await this.storage.get<number>('meta:next-seq')) ?? 0) + 1;
    const kept: Kept = {
      seq,
      receivedAtMs: Date.now(),
      bytes: new TextEncoder().encode(request.body).length,
      messageId: request.messageId,
      event: request.event,
      status: request.status,
      attempts: 0,
      lastTryAtMs: null,
      cause: null,
      nextTryAtMs: null,
      failedAtMs: null,
    };
    // One atomic write: the delivery, its body and the counter together.
    await this.storage.put<unknown>({
      [seqKey('waiting:', seq)]: kept,
      [seqKey('body:', seq)]: request.body,
      ...(request.signedHeaders ? { [seqKey('signed:', seq)]: request.signedHeaders } : {}),
      'meta:next-seq': seq,
    });
    await this.ensureAlarm();
    return { seq, waiting: (await this.storage.list({ prefix: 'waiting:' })).size };
  }

  private async ensureAlarm(): Promise<void> {
    if ((await this.storage.getAlarm()) !== null) return;
    if ((await this.list('waiting:', 1)).length === 0) return;
    await this.storage.setAlarm(Date.now());
  }

  private async list(prefix: 'waiting:' | 'failed:', limit?: number): Promise<Kept[]> {
    const options = limit === undefined ? { prefix } : { prefix, limit };
    return [...(await this.storage.list<Kept>(options)).values()];
  }

  private async noteSink(state: SinkState): Promise<void> {
    await this.storage.put('meta:sink', state);
  }

  private async drain(): Promise<void> {
    const config = parseForwardConfig(stringBindings(this.env));
    if (!config.ok) {
      await this.noteSink({
        away: true,
        since: Date.now(),
        cause: config.message,
        nextTryAtMs: Date.now() + CONFIG_RETRY_MS,
      });
      await this.storage.setAlarm(Date.now() + CONFIG_RETRY_MS);
      return;
    }
    for (let n = 0; n < DRAIN_BATCH; n++) {
      const [head] = await this.list('waiting:', 1);
      if (head === undefined) return this.settled();
      const waitUntil = await this.tryHead(head, config.value);
      if (waitUntil !== null) return this.storage.setAlarm(waitUntil);
    }
    // More than a batch waits: go on in a fresh invocation.
    await this.storage.setAlarm(Date.now());
  }

  private async settled(): Promise<void> {
    await Promise.all([
      this.storage.put('meta:streak', 0),
      this.noteSink({ away: false, since: null, cause: null, nextTryAtMs: null }),
    ]);
  }

  /** Tries the head of the line: null when the line moves on, else when to try again. */
  private async tryHead(head: Kept, config: ForwardConfig): Promise<number | null> {
    const body = await this.storage.get<string>(seqKey('body:', head.seq));
    if (body === undefined) {
      await this.fail({ ...head, cause: 'its body is missing from the outbox storage' }, Date.now());
      return null;
    }
    const exchange = sinkExchange();
    // The kept bytes, exactly as UP42 sent them, so the sink stores the signed body.
    const signedHeaders = await this.storage.get<string>(seqKey('signed:', head.seq));
    const raw = { text: body, contentType: 'application/json', signedHeaders };
    const result = await forwardToSink(JSON.parse(body) as unknown, config, exchange.transport, systemClock, raw);
    const outcome = judgeTry(result, exchange.last);
    const now = Date.now();
    if (outcome.outcome === 'delivered') {
      const delivered = ((await this.storage.get<number>('meta:delivered')) ?? 0) + 1;
      // Issued together, without an await between them: the runtime commits them as one write.
      const counters = this.storage.put<unknown>({ 'meta:delivered': delivered, 'meta:streak': 0 });
      const gone = [seqKey('waiting:', head.seq), seqKey('body:', head.seq), seqKey('signed:', head.seq)].map((key) =>
        this.storage.delete(key),
      );
      await Promise.all([counters, ...gone]);
      return null;
    }
    const tried: Kept = { ...head, attempts: head.attempts + 1, lastTryAtMs: now, cause: outcome.cause };
    if (outcome.outcome === 'refused') {
      await this.fail(tried, now);
      return null;
    }
    const streak = ((await this.storage.get<number>('meta:streak')) ?? 0) + 1;
    const sink = await this.storage.get<SinkState>('meta:sink');
    const behind = (await this.list('waiting:')).filter((kept) => kept.seq !== tried.seq);
    // Those behind the head never met the sink themselves: the head's cause is theirs.
    const line = [tried, ...behind.map((kept) => ({ ...kept, cause: kept.cause ?? outcome.cause }))];
    const plan = planLine(streak, line, config.parkDelaysSeconds, config.parkMaxHours, now);
    for (const kept of plan.givenUp) await this.fail(kept, now);
    if (plan.next === null) {
      await this.settled();
      return null;
    }
    const { kept, nextTryAtMs } = plan.next;
    await this.storage.put<unknown>({
      [seqKey('waiting:', kept.seq)]: { ...kept, nextTryAtMs },
      'meta:streak': streak,
    });
    await this.noteSink({ away: true, since: sink?.away ? sink.since : now, cause: outcome.cause, nextTryAtMs });
    return nextTryAtMs;
  }

  private async fail(kept: Kept, now: number): Promise<void> {
    const moved = this.storage.put(seqKey('failed:', kept.seq), { ...kept, nextTryAtMs: null, failedAtMs: now });
    await Promise.all([moved, this.storage.delete(seqKey('waiting:', kept.seq))]);
  }

  private async view() {
    const waiting = await this.list('waiting:');
    const failed = await this.list('failed:');
    const sink = (await this.storage.get<SinkState>('meta:sink')) ?? {
      away: false,
      since: null,
      cause: null,
      nextTryAtMs: null,
    };
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      waiting: waiting.length,
      failed: failed.length,
      delivered: (await this.storage.get<number>('meta:delivered')) ?? 0,
      sink: { away: sink.away, since: iso(sink.since), cause: sink.cause, nextTryAt: iso(sink.nextTryAtMs) },
      // The first of each, in arrival order: enough to see why the line waits, without an unbounded answer.
      deliveries: [
        ...waiting.slice(0, VIEW_LIMIT).map((k) => describeKept(k, 'waiting')),
        ...failed.slice(0, VIEW_LIMIT).map((k) => describeKept(k, 'failed')),
      ],
    };
  }
}
