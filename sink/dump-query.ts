import { fail, ok, type Result } from '../shared/result.js';
import type { RecordFilter } from './store/types.js';

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
