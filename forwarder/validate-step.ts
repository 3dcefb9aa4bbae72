import { parseValidateConfig } from '../shared/config.js';
import type { Env } from '../shared/env.js';
import { configurationError, stepError } from './errors.js';
import type { StepContext } from './pipedream.js';
import { decideDelivery, type Delivery } from './validate.js';

/*
 * The validate step of the Pipedream workflow around the host-neutral decision in validate.ts, which the Worker
 * uses without Pipedream's platform.
 */

export interface ValidatedEvent {
  event: string;
  status: string;
  liveMode: boolean;
  messageId: string | null;
}

/**
 * The validate step: throws on a configuration error or a rejected signature, ends the workflow on a status
 * nobody wants notified about, and exports what it learned otherwise.
 */
export function validateStep(delivery: Delivery, $: StepContext, env: Env, now: number): unknown {
  const config = parseValidateConfig(env);
  if (!config.ok) {
    $.export('$summary', 'configuration error');
    throw configurationError(config.message);
  }
  const decision = decideDelivery(delivery, config.value, Math.floor(now / 1000));
  // What the signature covered and how it checked, for every run (a rejected or ignored one too): the event
  // history then shows what a real UP42 delivery signs.
  if (decision.action === 'reject') {
    $.export('verification', decision.report);
    $.export('$summary', `signature rejected: ${decision.reason}`);
    throw stepError('signature', decision.reason, `signature rejected (${decision.reason}): ${decision.message}`);
  }
  const mode = decision.liveMode === true ? 'live' : decision.liveMode === false ? 'test' : 'liveMode unknown';
  const described = `${decision.event ?? 'unknown event'} ${decision.status ?? '(no status)'} (${mode})`;
  exportEvent($, decision);
  $.export('verification', decision.report);
  if (decision.action === 'ignore') {
    $.export('$summary', `${described} ignored: ${decision.reason}`);
    return $.flow.exit(`ignored: ${decision.reason}`);
  }
  const { weaknesses } = decision.signature;
  // A weak signature is accepted only by choice, and every run says so: it proves little about the request.
  const warning =
    weaknesses.length > 0
      ? ` (WEAK SIGNATURE accepted: ${weaknesses.join('; ')}; UP42_ACCEPT_WEAK_SIGNATURES=yes)`
      : '';
  const reserialised = decision.signature.digestChecked && decision.report.body === 'reserialised';
  const how = reserialised ? ' (digest checked against the body serialised again: no raw body)' : '';
  $.export('$summary', `${described} verified${how}${warning}`);
  $.export('signature', {
    components: decision.signature.components,
    created: decision.signature.created,
    digestChecked: decision.signature.digestChecked,
    secret: decision.signature.secretIndex === 0 ? 'current' : 'previous',
    weak: weaknesses.length > 0,
    weaknesses,
  });
  return {
    event: decision.event,
    status: decision.status,
    liveMode: decision.liveMode,
    messageId: decision.messageId ?? null,
  };
}

function exportEvent(
  $: StepContext,
  decision: { event?: string; status?: string; liveMode?: boolean; messageId?: string },
) {
  $.export('event', decision.event ?? null);
  $.export('status', decision.status ?? null);
  $.export('liveMode', decision.liveMode ?? null);
  $.export('messageId', decision.messageId ?? null);
}
