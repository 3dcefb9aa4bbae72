import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpGet } from './processes.js';

/**
 * After a load run against the sink: was every webhook sent acknowledged, and every acknowledged one kept,
 * under consecutive keys? A fast run that lost data is a failed run, and so is one the sink answered with
 * errors.
 *
 * The load generator stops by closing its connections, so up to one request per connection can be in
 * flight at the stop: the sink may have stored it (it had its body) while the reply was never read. Such a
 * record must be one the load generator prepared; there can be at most one per connection and run.
 */
export interface DataCheck {
  ok: boolean;
  /** 200 replies saying `stored`. */
  acked: number;
  stored: number;
  /** Stored records whose reply the load generator never read (cut off in flight at its stop). */
  inFlightAtStop: number;
  problems: string[];
}

export interface DumpLine {
  key: number;
  messageId: string | null;
}

/** Streams GET /dump-webhooks?envelope=1 and keeps key and messageId of each line, nothing else. */
export function readEnvelopes(url: string): Promise<{ lines: DumpLine[]; trailer: string }> {
  return new Promise((resolve, reject) => {
    const lines: DumpLine[] = [];
    let rest = '';
    let trailer = '';
    const req = request(`${url}/dump-webhooks?envelope=1`, { agent: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`dump answered ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop()!;
        for (const part of parts) {
          if (part.startsWith('{"key":')) {
            const value = JSON.parse(part) as { key: number; messageId: string | null };
            lines.push({ key: value.key, messageId: value.messageId });
          } else trailer = part;
        }
      });
      res.on('end', () => resolve({ lines, trailer: trailer || rest }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const statsOf = async (url: string) =>
  JSON.parse((await httpGet(`${url}/stats`)).body) as { count: number; lastKey: number };

/** What a load run sent and was told: the keys of its `stored` replies, and the replies that were not 2xx. */
export interface CheckedRun {
  ackedKeys: number[];
  prepared: Set<string>;
  non2xx: number;
  errors: number;
}

export async function checkStored(url: string, runs: CheckedRun[], connections: number): Promise<DataCheck> {
  const problems: string[] = [];
  // Every request carries a fresh, valid webhook and the store has room for all: anything but a 200 means
  // the sink turned good webhooks away, and a run that stored nothing proves nothing about loss.
  const non2xx = runs.reduce((n, r) => n + r.non2xx, 0);
  const errors = runs.reduce((n, r) => n + r.errors, 0);
  if (non2xx > 0) problems.push(`${non2xx} replies were not 2xx`);
  if (errors > 0) problems.push(`${errors} requests failed without a reply`);
  if (runs.every((r) => r.ackedKeys.length === 0)) problems.push('no webhook was acknowledged');
  // Requests cut off at the stop may still be committing: wait until the count holds still.
  let stats = await statsOf(url);
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    const next = await statsOf(url);
    if (next.count === stats.count) break;
    stats = next;
  }
  const { lines, trailer } = await readEnvelopes(url);
  const stored = lines.length;
  if (stats.count !== stored) problems.push(`/stats says ${stats.count} webhooks, the dump has ${stored}`);
  if (!trailer.includes(`"number_webhooks_received": ${stored}`))
    problems.push(`the dump's last line is ${JSON.stringify(trailer)}`);
  const ids = new Set<string>();
  lines.forEach((line, i) => {
    if (line.key !== i + 1 && problems.length < 20)
      problems.push(`line ${i + 1} has key ${line.key}: keys are not 1..N consecutive`);
    if (line.messageId === null || !runs.some((r) => r.prepared.has(line.messageId!)))
      problems.push(`key ${line.key} holds a messageId no request carried`);
    else if (ids.has(line.messageId)) problems.push(`key ${line.key} repeats messageId ${line.messageId}`);
    else ids.add(line.messageId);
  });
  const acked = new Set<number>();
  let ackCount = 0;
  for (const r of runs) {
    for (const key of r.ackedKeys) {
      ackCount += 1;
      if (acked.has(key)) problems.push(`key ${key} was acknowledged twice`);
      acked.add(key);
      if (key < 1 || key > stored) problems.push(`key ${key} was acknowledged but is not stored`);
    }
  }
  const inFlightAtStop = stored - acked.size;
  if (inFlightAtStop < 0 || inFlightAtStop > connections * runs.length) {
    problems.push(
      `${ackCount} 200 replies, ${stored} stored: more than the ${connections * runs.length} requests ` +
        'that can be in flight when the load stops',
    );
  }
  return { ok: problems.length === 0, acked: ackCount, stored, inFlightAtStop, problems: problems.slice(0, 20) };
}
