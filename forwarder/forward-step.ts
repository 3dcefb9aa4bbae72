import { parseForwardConfig } from '../shared/config.js';
import { describeSeconds, planPark } from '../shared/delivery-decision.js';
import type { Env } from '../shared/env.js';
import { configurationError, stepError } from './errors.js';
import {
  forwardToSink,
  payloadOf,
  sinkMessage,
  systemClock,
  type Clock,
  type Delivered,
  type NotDelivered,
  type RawBody,
  type SinkTransport,
} from './forward.js';
import type { StepContext } from './pipedream.js';

/**
 * The forward step: one delivery attempt (forward.ts) and, when the sink is away, the delivery parked with
 * Pipedream's `$.flow.rerun` until the next delay of FORWARD_PARK_DELAYS. The rule (what is away, which delay
 * comes next, when to give up) is shared/delivery-decision.ts; this is its shell on Pipedream.
 */

/** What a parked run hands the next one, through `$.flow.rerun`'s context. */
export interface ParkContext {
  /** When the first run tried, in ms since the epoch. */
  firstTryAt: number;
}

export interface Parked {
  parked: true;
  nextTryAt: string;
  park: number;
  of: number;
  cause: string;
}

export interface ForwardInput {
  body: unknown;
  /** The bytes UP42 sent; without them the parsed body is serialised again. */
  raw?: RawBody | undefined;
  /** UP42's signature packed for the sink to check again (shared/signed-headers.ts); null when unsigned. */
  signedHeaders?: string | null | undefined;
}

const readContext = (value: unknown, now: number): ParkContext => {
  const at = (value as Partial<ParkContext> | null | undefined)?.firstTryAt;
  return { firstTryAt: typeof at === 'number' && Number.isFinite(at) ? at : now };
};

function park(
  $: StepContext,
  failed: NotDelivered,
  delays: readonly number[],
  clock: Clock,
  startedAt: number,
): Parked {
  const run = $.context?.run?.runs ?? 1;
  const context = readContext($.context?.run?.context, startedAt);
  const plan = planPark(run, delays);
  if (plan.action === 'give-up' || typeof $.flow.rerun !== 'function') {
    const triedFor = describeSeconds((clock.now() - context.firstTryAt) / 1000);
    $.export('$summary', `not delivered: sink away (${failed.cause}) for ${triedFor}, given up`);
    const runs = plan.action === 'give-up' ? ` over ${run} runs` : '';
    throw stepError('sink', failed.reason, `the sink was away for ${triedFor}${runs}; last: ${failed.message}`);
  }
  $.flow.rerun(plan.delaySeconds * 1000, context, delays.length);
  const nextTryAt = new Date(clock.now() + plan.delaySeconds * 1000).toISOString();
  const parked: Parked = { parked: true, nextTryAt, park: plan.park, of: plan.of, cause: failed.cause };
  $.export('parked', parked);
  const next = describeSeconds(plan.delaySeconds);
  $.export('$summary', `sink away (${failed.cause}): parked, next try in ${next}, ${plan.park} of ${plan.of}`);
  return parked;
}

function summaryOf(delivered: Delivered): string {
  const { key, duplicate, reply } = delivered;
  if (key === null) {
    const said = sinkMessage(typeof reply === 'string' ? reply : JSON.stringify(reply));
    return `delivered; the sink answered "${said}"`;
  }
  return duplicate ? `already stored as key ${key}` : `stored as key ${key}`;
}

/** The step: configuration, delivery, parking or exports; a final failure is thrown, never swallowed. */
export async function forwardStep(
  input: ForwardInput,
  $: StepContext,
  env: Env,
  transport: SinkTransport,
  clock: Clock = systemClock,
): Promise<Delivered | Parked> {
  const config = parseForwardConfig(env);
  if (!config.ok) {
    $.export('$summary', 'configuration error');
    throw configurationError(config.message);
  }
  const startedAt = clock.now();
  const payload = { ...payloadOf(input.body, input.raw), signedHeaders: input.signedHeaders };
  const delivered = await forwardToSink(input.body, config.value, transport, clock, payload);
  if (!delivered.ok) {
    const failed = delivered as NotDelivered;
    if (failed.away) return park($, failed, config.value.parkDelaysSeconds, clock, startedAt);
    $.export('$summary', `not delivered: ${failed.reason}`);
    throw stepError('sink', failed.reason, failed.message);
  }
  $.export('sink', delivered.value.reply);
  $.export('attempts', delivered.value.attempts);
  $.export('$summary', summaryOf(delivered.value));
  return delivered.value;
}
