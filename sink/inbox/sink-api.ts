/** Reading the sink's dump from the page. */
import { isEnvelope, type Envelope } from './state.js';
import { sinkUrl } from './urls.js';

/** The records of a dump query, as envelopes; the closing count line is not a record. */
export async function fetchDump(params: URLSearchParams, signal?: AbortSignal): Promise<Envelope[]> {
  params.set('envelope', '1');
  const init: RequestInit = { headers: { accept: 'application/x-ndjson' } };
  if (signal) init.signal = signal;
  const res = await fetch(sinkUrl(location.origin, '/dump-webhooks', params.toString()), init);
  if (!res.ok) throw new Error(`the sink answered ${res.status}`);
  const records: Envelope[] = [];
  for (const line of (await res.text()).split('\n')) {
    if (line.trim() === '') continue;
    const item = parseJson(line);
    if (isEnvelope(item)) records.push(item);
  }
  return records;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
