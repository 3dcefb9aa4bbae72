import { parseOutboxConfig, parseWorkerConfig } from '../../shared/config.js';
import { createLoginBackoff } from '../../shared/login-backoff.js';
import { stringBindings } from './bindings.js';
import { keepReport, type VerificationReport } from '../../shared/verification-report.js';
import { admit, json } from './gate.js';
import { drain, type DrainHost } from './outbox-drain.js';
import { migrateKeyValue } from './outbox-migrate.js';
import { dedupKey, describeKept } from './outbox-plan.js';
import type { OutboxState } from './check.js';
import {
  fullness,
  keep,
  openDb,
  page,
  readMeta,
  run,
  sinkOf,
  type Arrival,
  type Db,
  type Table,
} from './outbox-store.js';
import type { DurableObjectState, DurableObjectStorage, WorkerEnv } from './runtime-types.js';

/**
 * The outbox: one Durable Object that keeps every accepted delivery until the sink has stored it, in arrival
 * order, in its SQLite database (outbox-store.ts). An alarm drains it (outbox-drain.ts). `POST /keep` comes
 * from the Worker for each validated delivery; `GET /outbox`, `GET /check` and `POST /wake` are the Worker's
 * pages passed on, locked here (gate.ts) because the back-off on wrong passwords lives in this one object.
 */

export type KeepRequest = Omit<Arrival, 'dedup' | 'bytes'> & { report?: VerificationReport };

/** A configuration problem is retried after this long (the fix is a redeploy, which wakes the outbox anyway). */
const CONFIG_RETRY_MS = 60_000;
/** Deliveries per page of `GET /outbox`, unless `limit` asks for fewer. */
const PAGE_LIMIT = 1000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class Outbox implements DrainHost {
  readonly storage: DurableObjectStorage;
  readonly db: Db;
  /** Set by `POST /wake` while a drain runs, so the drain goes on at once rather than at its planned time. */
  woken = false;
  private readonly backoff = createLoginBackoff();
  /**
   * The last verification reports, newest first, in memory only: they are for a person or `connect` checking the
   * chain now, and storing them would cost a row write per delivery.
   */
  private reports: VerificationReport[] = [];

  constructor(
    state: DurableObjectState,
    private readonly env: WorkerEnv,
  ) {
    this.storage = state.storage;
    this.db = openDb(state.storage.sql);
    // Whatever wakes the object (an arrival, GET /outbox, a restart of the local runtime) first moves an older
    // layout's deliveries over and makes sure a waiting delivery has an alarm.
    void state.blockConcurrencyWhile(async () => {
      if (readMeta(this.db).migrated === 0) await migrateKeyValue(this.storage, this.db);
      await this.ensureAlarm();
    });
  }

  log(line: string): void {
    console.log(`outbox: ${line}`);
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    if (route === 'POST /keep') return this.keep((await request.json()) as KeepRequest);
    if (route === 'POST /report') {
      this.reports = keepReport(this.reports, (await request.json()) as VerificationReport);
      return new Response(null, { status: 204 });
    }
    if (route === 'POST /start') {
      await this.ensureAlarm();
      return json(200, { waiting: readMeta(this.db).waiting > 0 });
    }
    const config = parseWorkerConfig(stringBindings(this.env));
    if (!config.ok) return json(500, { outcome: 'error', reason: 'invalid-config', message: config.message });
    const what = route === 'POST /wake' ? 'POST /wake' : `GET ${url.pathname}`;
    const refused = await admit(request, config.value.forward.auth, this.backoff, Date.now, what);
    if (refused !== null) return refused;
    if (route === 'GET /outbox') return json(200, this.view(url.searchParams));
    if (route === 'GET /check') return json(200, { ...this.state(), verifications: this.reports });
    if (route === 'POST /wake') return this.wake();
    return json(404, { message: 'not found' });
  }

  async alarm(): Promise<void> {
    try {
      await drain(this, this.env);
    } catch (error) {
      // Never let the alarm fail silently into the runtime's own retries: note why, and try again later.
      this.log(`drain error: ${String(error)}`);
      await this.retryLater(`outbox error: ${String(error)}`);
    }
  }

  async retryLater(cause: string): Promise<void> {
    const at = Date.now() + CONFIG_RETRY_MS;
    try {
      run(
        this.db,
        `UPDATE meta SET sink_away = 1, sink_since_ms = coalesce(sink_since_ms, ?), sink_cause = ?,
         sink_next_try_at_ms = ?`,
        Date.now(),
        cause,
        at,
      );
    } catch (error) {
      // Storage itself refuses (the free plan's daily limit): the alarm below, or the runtime's retry of a
      // failed alarm, tries again.
      this.log(`could not note the cause: ${String(error)}`);
    }
    await this.storage.setAlarm(at);
  }

  private async keep({ report, ...request }: KeepRequest): Promise<Response> {
    if (report !== undefined) this.reports = keepReport(this.reports, report);
    const caps = parseOutboxConfig(stringBindings(this.env));
    if (!caps.ok) return json(500, { message: caps.message });
    const arrival: Arrival = {
      ...request,
      bytes: new TextEncoder().encode(request.body).length,
      dedup: dedupKey(request.messageId, request.body),
    };
    const now = Date.now();
    const lineWasEmpty = run(this.db, 'SELECT seq FROM line ORDER BY seq LIMIT 1').length === 0;
    const outcome = this.storage.transactionSync(() => keep(this.db, arrival, caps.value, now));
    if (!outcome.kept && outcome.duplicate) {
      this.log(`seq ${outcome.seq} replayed (${arrival.dedup}): not kept again`);
      return json(200, { duplicate: true, seq: outcome.seq });
    }
    if (!outcome.kept) {
      this.log(`full, not kept: ${outcome.full}`);
      return json(507, { full: outcome.full });
    }
    this.log(`seq ${outcome.seq} kept (${request.messageId ?? arrival.dedup}), ${outcome.waiting} waiting`);
    // A line that waits already has its alarm, planned by the drain; a new head is tried at once.
    if (lineWasEmpty) await this.alarmBy(now);
    return json(201, { seq: outcome.seq, waiting: outcome.waiting });
  }

  /** The sink says it is back: the head of the line is tried now, the away streak starts again. */
  private async wake(): Promise<Response> {
    this.woken = true;
    run(this.db, 'UPDATE line SET next_try_at_ms = NULL WHERE seq = (SELECT min(seq) FROM line)');
    run(this.db, 'UPDATE meta SET streak = 0 WHERE id = 1');
    await this.storage.setAlarm(Date.now());
    this.log('woken by the sink');
    return json(200, { waiting: readMeta(this.db).waiting });
  }

  private async alarmBy(at: number): Promise<void> {
    const current = await this.storage.getAlarm();
    if (current === null || current > at) await this.storage.setAlarm(at);
  }

  private async ensureAlarm(): Promise<void> {
    if ((await this.storage.getAlarm()) !== null || readMeta(this.db).waiting === 0) return;
    await this.storage.setAlarm(Date.now());
  }

  state(): Omit<OutboxState, 'maxWaiting' | 'maxWaitingBytes' | 'full'> & Partial<OutboxState> {
    const meta = readMeta(this.db);
    const caps = parseOutboxConfig(stringBindings(this.env));
    const [aside] = run<{ n: number }>(this.db, 'SELECT count(*) AS n FROM aside');
    const sink = sinkOf(meta);
    return {
      waiting: meta.waiting,
      aside: aside?.n ?? 0,
      waitingBytes: meta.waiting_bytes,
      ...(caps.ok ? { ...caps.value, full: fullness(meta, caps.value) } : {}),
      failed: meta.failed,
      delivered: meta.delivered,
      sink: { away: sink.away, since: iso(sink.since), cause: sink.cause, nextTryAt: iso(sink.nextTryAtMs) },
      storage: { rowsRead: this.db.rowsRead, rowsWritten: this.db.rowsWritten },
    };
  }

  /**
   * `GET /outbox`: the counts and the sink's state, and one page of deliveries: `?state=waiting` (the default:
   * the line, then those aside), `aside` or `failed`, from `after=SEQ`, at most `limit=N` (1000).
   */
  private view(query: URLSearchParams) {
    const state = query.get('state') ?? 'waiting';
    const after = Number(query.get('after') ?? '0') || 0;
    const limit = Math.min(PAGE_LIMIT, Math.max(1, Number(query.get('limit') ?? PAGE_LIMIT) || PAGE_LIMIT));
    const tables: Record<string, [Table, 'waiting' | 'aside' | 'failed'][]> = {
      waiting: [
        ['line', 'waiting'],
        ['aside', 'aside'],
      ],
      aside: [['aside', 'aside']],
      failed: [['failed', 'failed']],
    };
    const deliveries = (tables[state] ?? tables.waiting!).flatMap(([table, shown]) =>
      page(this.db, table, after, limit).map((k) => describeKept(k, shown)),
    );
    const shown = deliveries.slice(0, limit);
    const last = shown[shown.length - 1];
    const { storage: _storage, ...state_ } = this.state();
    return { ...state_, deliveries: shown, next: shown.length === limit && last ? last.seq : null };
  }
}
