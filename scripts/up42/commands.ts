import { fail, ok, type Result } from '../../shared/result.js';
import type { Command, Invocation, WebhookChanges } from './args.js';
import type { Up42Client, Webhook, WebhookInput } from './client.js';
import type { Up42Failure } from './errors.js';
import { eventsTable, maskWebhook, testSummary, toJson, webhookDetails, webhooksTable } from './format.js';

/** What a command prints on success; `failed` is set when the call worked but reports a failure (tests). */
export interface CommandOutput {
  stdout: string;
  failed?: string;
}

type Outcome = Promise<Result<CommandOutput, Up42Failure | 'tests-failed'>>;

/**
 * The PUT body of an update: UP42 replaces the whole webhook, so every writable field is sent, each taken
 * from `changes` when given and from the current webhook otherwise (its secret too, as UP42 returned it).
 * UP42's Python SDK updates the same way: its `Webhook.update` sends back the `secret` of the GET.
 */
export function mergeUpdate(current: Webhook, changes: WebhookChanges): Result<WebhookInput, 'bad-response'> {
  const name = changes.name ?? current.name;
  const url = changes.url ?? current.url;
  const events = changes.events ?? current.events;
  const active = changes.active ?? current.active;
  const missing = [
    typeof name !== 'string' && 'name',
    typeof url !== 'string' && 'url',
    !(Array.isArray(events) && events.every((e) => typeof e === 'string')) && 'events',
    typeof active !== 'boolean' && 'active',
  ].filter((m): m is string => typeof m === 'string');
  if (missing.length > 0) {
    const flags = missing.map((m) => (m === 'active' ? '--active or --inactive' : `--${m}`)).join(', ');
    return fail(
      'bad-response',
      `the current webhook as UP42 returned it has no valid ${missing.join(', ')}: pass ${flags} to set them`,
    );
  }
  const body: WebhookInput = { name: name!, url: url!, events: [...events!], active: active! };
  if (changes.secret !== undefined) body.secret = changes.secret;
  else if ('secret' in current) body.secret = current.secret ?? null;
  return ok(body);
}

export async function runCommand(invocation: Invocation, client: Up42Client): Outcome {
  const { json, showSecret } = invocation;
  const webhookOut = (w: Webhook) =>
    ok({ stdout: json ? toJson(maskWebhook(w, showSecret)) : webhookDetails(w, showSecret) });
  const command: Command = invocation.command;
  switch (command.kind) {
    case 'events': {
      const result = await client.events();
      if (!result.ok) return result;
      return ok({ stdout: json ? toJson(result.value) : eventsTable(result.value) });
    }
    case 'list': {
      const result = await client.list();
      if (!result.ok) return result;
      return ok({
        stdout: json
          ? toJson(result.value.map((w) => maskWebhook(w, showSecret)))
          : webhooksTable(result.value, showSecret),
      });
    }
    case 'get': {
      const result = await client.get(command.id);
      return result.ok ? webhookOut(result.value) : result;
    }
    case 'create': {
      const { name, url, events, secret, active } = command;
      const result = await client.create({ name, url, events, active, secret });
      return result.ok ? webhookOut(result.value) : result;
    }
    case 'update': {
      const current = await client.get(command.id);
      if (!current.ok) return current;
      const body = mergeUpdate(current.value, command.changes);
      if (!body.ok) return body;
      const result = await client.replace(command.id, body.value);
      return result.ok ? webhookOut(result.value) : result;
    }
    case 'delete': {
      const result = await client.remove(command.id);
      if (!result.ok) return result;
      return ok({ stdout: json ? toJson({ id: command.id, deleted: true }) : `deleted webhook ${command.id}` });
    }
    case 'test': {
      const result = await client.test(command.id);
      if (!result.ok) return result;
      const { testsRun, testsSucceeded } = result.value;
      const stdout = json ? toJson(result.value) : testSummary(command.id, result.value);
      if (typeof testsRun === 'number' && typeof testsSucceeded === 'number' && testsSucceeded < testsRun) {
        return ok({
          stdout,
          failed: `${testsRun - testsSucceeded} of ${testsRun} test events were not delivered to the webhook's URL`,
        });
      }
      return ok({ stdout });
    }
  }
}
