import { makeEvent } from '../shared/events.js';

/**
 * The benchmark's webhook: a live UP42 job.status FAILED event with three tasks, about 1 KB of JSON as UP42
 * sends it. Each request gets a fresh messageId (the sink answers a repeated one as a duplicate without
 * storing it), so the body is built once as a template and only the id is spliced in.
 */

const ID_SLOT = '00000000-0000-4000-8000-000000000000';

function template(): string {
  const event = makeEvent({
    event: 'job.status',
    status: 'FAILED',
    liveMode: true,
    messageId: ID_SLOT,
    timestamp: '2026-11-30T07:01:43.512Z',
  });
  (event.body as { tasks?: unknown[] }).tasks?.push({
    id: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
    name: 'data-delivery-geotiff:1',
    status: 'CANCELLED',
    blockName: 'data-delivery-geotiff',
    blockVersion: '1.4.2',
    startedAt: '2026-11-30T07:01:42.500Z',
    finishedAt: '2026-11-30T07:01:42.900Z',
  });
  return JSON.stringify(event);
}

const TEMPLATE = template();
const [HEAD, TAIL] = TEMPLATE.split(ID_SLOT) as [string, string];

/** A UUID-shaped id, unique within this process: `run` tells benchmark runs apart, `n` requests within one. */
export function messageId(run: number, n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  const r = (run & 0xffff).toString(16).padStart(4, '0');
  return `b3c4d5e6-${r}-4000-8000-${hex}`;
}

export function payload(id: string): string {
  return HEAD + id + TAIL;
}

export const PAYLOAD_BYTES = Buffer.byteLength(payload(messageId(0, 0)));
