import { fail, ok, type Result } from '../shared/result.js';
import { normalizeStatus } from '../shared/status.js';
import { bodyContains } from './store/record-index.js';
import type { RecordFilter, StoredRecord } from './store/types.js';

/**
 * The query of GET /dump-webhooks, validated: event, status, liveMode, since, before, limit, order, q and
 * envelope. Unknown parameters are ignored; a known one with a bad value is an error naming it. Pure.
 */
export interface DumpQuery {
  filter: RecordFilter;
  envelope: boolean;
}

const KEY_MAX = Number.MAX_SAFE_INTEGER;

function whole(params: URLSearchParams, name: string, problems: string[]): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^[0-9]{1,16}$/.test(raw) || Number(raw) > KEY_MAX) {
    problems.push(`${name} must be a whole number`);
    return undefined;
  }
  return Number(raw);
}

function bool(params: URLSearchParams, name: string, problems: string[]): boolean | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  const v = raw.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  problems.push(`${name} must be true or false`);
  return undefined;
}

export function parseDumpQuery(params: URLSearchParams): Result<DumpQuery, 'bad-query'> {
  const problems: string[] = [];
  const filter: RecordFilter = {};
  const text = (name: 'event' | 'status' | 'q') => {
    const raw = params.get(name);
    if (raw !== null && raw !== '') filter[name] = raw;
  };
  text('event');
  text('status');
  text('q');
  const liveMode = bool(params, 'liveMode', problems);
  if (liveMode !== undefined) filter.liveMode = liveMode;
  const since = whole(params, 'since', problems);
  if (since !== undefined) filter.since = since;
  const before = whole(params, 'before', problems);
  if (before !== undefined) filter.before = before;
  const limit = whole(params, 'limit', problems);
  if (limit !== undefined) filter.limit = limit;
  const order = params.get('order');
  if (order !== null && order !== '') {
    if (order === 'asc' || order === 'desc') filter.order = order;
    else problems.push('order must be asc or desc');
  }
  const envelope = bool(params, 'envelope', problems) ?? false;
  if (problems.length > 0) return fail('bad-query', problems.join('; '));
  return ok({ filter, envelope });
}

/** What GET /events filters on: the dump's record filters; a stream has no end, order or page. */
export type EventsFilter = Pick<RecordFilter, 'event' | 'status' | 'liveMode' | 'q'>;

const NOT_FOR_STREAMS = ['before', 'limit', 'order', 'envelope'] as const;

/** The query of GET /events: the dump's `event`, `status`, `liveMode` and `q`, parsed by the dump's parser. */
export function parseEventsQuery(params: URLSearchParams): Result<EventsFilter, 'bad-query'> {
  const refused = NOT_FOR_STREAMS.filter((name) => params.has(name));
  if (refused.length > 0) {
    return fail('bad-query', `${refused.join(', ')}: not for a stream (it takes event, status, liveMode, q and since)`);
  }
  const withoutSince = new URLSearchParams(params);
  withoutSince.delete('since'); // since is the stream's, read with Last-Event-ID
  const parsed = parseDumpQuery(withoutSince);
  if (!parsed.ok) return parsed;
  const { event, status, liveMode, q } = parsed.value.filter;
  const filter: EventsFilter = {};
  if (event !== undefined) filter.event = event;
  if (status !== undefined) filter.status = status;
  if (liveMode !== undefined) filter.liveMode = liveMode;
  if (q !== undefined) filter.q = q;
  return ok(filter);
}

/** Whether one record passes the filter, with the store's rules (normalised status, case-insensitive q). */
export function recordMatches(record: StoredRecord, filter: EventsFilter): boolean {
  if (filter.event !== undefined && record.event !== filter.event) return false;
  if (filter.status !== undefined) {
    if (record.status === null || normalizeStatus(record.status) !== normalizeStatus(filter.status)) return false;
  }
  if (filter.liveMode !== undefined && record.liveMode !== filter.liveMode) return false;
  if (filter.q !== undefined && filter.q !== '' && !bodyContains(record.body, filter.q.toLowerCase())) return false;
  return true;
}
