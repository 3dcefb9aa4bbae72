import { readEnv, type Env } from '../../shared/env.js';
import { basicAuthorization } from '../cli/basic-auth.js';
import type { Result } from '../../shared/result.js';
import { SINK_HEADERS } from '../../forwarder/forward.js';
import type { VerificationReport } from '../../shared/verification-report.js';
import { failed, passed, secretOnHost, unseen, verificationHop, type ForwarderKind, type Hop } from './chain-hops.js';
import type { Up42Client, Webhook } from './client.js';
import type { HttpFailure, HttpReply, HttpRequest } from './http.js';

/**
 * `npm run up42 -- connect --url URL` and `doctor`: from UP42 credentials to a verified chain, one line per hop.
 * connect makes what is missing (a secret in .env, the UP42 webhook for the URL, or its update: never a second
 * one), doctor changes nothing; both make UP42 send its test event, read what the forwarder (or, with --direct,
 * the sink) verified of it at GET /check, and ping the sink.
 */
export interface ChainCommand {
  kind: 'connect' | 'doctor';
  /** The forwarder's public URL, or the sink's with `direct`. */
  url: string;
  direct: boolean;
  waitMs: number;
  timeoutMs: number;
}

export interface ChainDeps {
  client: Up42Client;
  http: (request: HttpRequest) => Promise<Result<HttpReply, HttpFailure>>;
  env: Env;
  /** Writes UP42_WEBHOOK_SECRET into .env; returns the file's path. */
  saveSecret(secret: string): Promise<string>;
  generateSecret(): string;
  print(line: string): void;
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const WEBHOOK_EVENTS = ['job.status', 'order.status'];
export const WEBHOOK_NAME = 'up42-webhook-relay';

const base = (url: string) => url.replace(/\/+$/, '');
/** Where UP42 is to deliver: the forwarder's URL, or the sink's receiving route in direct mode. */
export const deliveryUrl = (command: Pick<ChainCommand, 'url' | 'direct'>) =>
  command.direct ? `${base(command.url).replace(/\/receive-webhooks$/, '')}/receive-webhooks` : base(command.url);
const sameUrl = (a: unknown, b: string) => typeof a === 'string' && base(a) === base(b);

function sinkAuth(env: Env): Record<string, string> {
  const user = readEnv(env, 'SINK_BASIC_AUTH_USER');
  const pass = readEnv(env, 'SINK_BASIC_AUTH_PASS');
  if (user === undefined || pass === undefined) return {};
  return { authorization: basicAuthorization({ user, pass }) };
}

async function detectKind(command: ChainCommand, deps: ChainDeps): Promise<ForwarderKind | null> {
  if (command.direct) return 'sink';
  const check = await deps.http({ method: 'GET', url: `${base(command.url)}/check`, timeoutMs: command.timeoutMs });
  const json = check.ok ? (check.value.json as { ok?: unknown } | undefined) : undefined;
  if (typeof json?.ok === 'boolean') return 'worker';
  return /\.pipedream\.net$/i.test(new URL(command.url).hostname) ? 'pipedream' : null;
}

async function ensureSecret(command: ChainCommand, deps: ChainDeps, kind: ForwarderKind) {
  const existing = readEnv(deps.env, 'UP42_WEBHOOK_SECRET');
  if (existing !== undefined) return { secret: existing, hop: passed('secret: UP42_WEBHOOK_SECRET is set') };
  if (command.kind === 'doctor') {
    const fix = 'run connect, which makes one, or set it in .env as on the host';
    return { secret: null, hop: failed('secret: UP42_WEBHOOK_SECRET is not set', fix) };
  }
  const secret = deps.generateSecret();
  const file = await deps.saveSecret(secret);
  const where = kind === 'sink' ? 'the sink' : 'the forwarder';
  const line = `secret: generated a new UP42_WEBHOOK_SECRET and wrote it to ${file}`;
  return { secret, hop: passed(`${line}; put it on ${where}: ${secretOnHost(kind)}`) };
}

/** The webhook for the URL: found (doctor), or created or brought up to date (connect). */
async function ensureWebhook(
  command: ChainCommand,
  deps: ChainDeps,
  secret: string | null,
): Promise<{ webhook: Webhook | null; hop: Hop }> {
  const url = deliveryUrl(command);
  const list = await deps.client.list();
  if (!list.ok) return { webhook: null, hop: failed(`UP42: ${list.message}`, 'check UP42_USERNAME and UP42_PASSWORD') };
  const found = list.value.filter((w) => sameUrl(w.url, url));
  const current = found[0];
  const others = found.length > 1 ? ` (and ${found.length - 1} more for the same URL, left as they are)` : '';
  const wanted = (w: Webhook) =>
    w.active === true &&
    WEBHOOK_EVENTS.every((e) => w.events?.includes(e)) &&
    (secret === null || w.secret === undefined || w.secret === secret);
  if (command.kind === 'doctor') {
    if (current === undefined) return { webhook: null, hop: failed(`UP42: no webhook for ${url}`, 'run connect') };
    const hop = wanted(current)
      ? passed(`UP42: webhook ${String(current.id)} for ${url}: active, ${WEBHOOK_EVENTS.join(', ')}${others}`)
      : failed(
          `UP42: webhook ${String(current.id)} for ${url} is inactive or lacks an event or the secret`,
          'run connect',
        );
    return { webhook: current, hop };
  }
  const input = { name: WEBHOOK_NAME, url, events: WEBHOOK_EVENTS, active: true, secret };
  if (current === undefined) {
    const created = await deps.client.create(input);
    if (!created.ok) return { webhook: null, hop: failed(`UP42: ${created.message}`, 'check the account and the URL') };
    return { webhook: created.value, hop: passed(`UP42: created webhook ${String(created.value.id)} for ${url}`) };
  }
  // A secret UP42 does not show cannot be compared: it is sent again, which changes nothing when it is the same.
  if (wanted(current) && current.secret !== undefined) {
    return { webhook: current, hop: passed(`UP42: webhook ${String(current.id)} for ${url} is as wanted${others}`) };
  }
  const events = [...new Set([...(current.events ?? []), ...WEBHOOK_EVENTS])];
  const name = typeof current.name === 'string' ? current.name : WEBHOOK_NAME;
  const updated = await deps.client.replace(String(current.id), { ...input, name, events });
  if (!updated.ok) return { webhook: null, hop: failed(`UP42: ${updated.message}`, 'check the account') };
  return { webhook: updated.value, hop: passed(`UP42: updated webhook ${String(current.id)} for ${url}${others}`) };
}

/** The host's last verification reports (GET /check), 'not-verifying' from a sink without the secret, or null. */
async function fetchReports(
  command: ChainCommand,
  deps: ChainDeps,
): Promise<VerificationReport[] | 'not-verifying' | null> {
  const check = await deps.http({
    method: 'GET',
    url: `${base(command.url).replace(/\/receive-webhooks$/, '')}/check`,
    headers: { ...SINK_HEADERS, ...sinkAuth(deps.env) },
    timeoutMs: command.timeoutMs,
  });
  const answer = check.ok ? (check.value.json as { verifications?: unknown; verifying?: unknown } | undefined) : null;
  if (answer?.verifying === false) return 'not-verifying';
  return Array.isArray(answer?.verifications) ? (answer.verifications as VerificationReport[]) : null;
}

const reportKey = (r: VerificationReport) => `${r.at} ${r.messageId ?? ''}`;

/**
 * The newest report of a test event that was not there before the test (`before`): a new one, whatever the
 * difference between this machine's clock and the host's. null when none appeared in time.
 */
async function readReport(
  command: ChainCommand,
  deps: ChainDeps,
  before: ReadonlySet<string>,
): Promise<VerificationReport | null | 'not-verifying'> {
  const deadline = deps.now() + command.waitMs;
  for (;;) {
    const reports = await fetchReports(command, deps);
    if (reports === 'not-verifying') return reports;
    const mine = reports?.find((r) => r.liveMode === false && !before.has(reportKey(r)));
    if (mine !== undefined) return mine;
    if (deps.now() >= deadline) return null;
    await deps.sleep(250);
  }
}

async function pingSink(command: ChainCommand, deps: ChainDeps): Promise<Hop> {
  const sinkUrl = command.direct
    ? deliveryUrl(command).replace(/\/receive-webhooks$/, '')
    : readEnv(deps.env, 'SINK_URL');
  if (sinkUrl === undefined) return failed('sink: SINK_URL is not set', "set it in .env to the sink's public URL");
  const url = `${base(sinkUrl)}/ping`;
  const reply = await deps.http({
    method: 'GET',
    url,
    headers: { ...SINK_HEADERS, ...sinkAuth(deps.env) },
    timeoutMs: command.timeoutMs,
  });
  if (reply.ok && reply.value.status === 200 && reply.value.text.trim() === 'PONG') {
    return passed(`sink: answered PONG at ${url}`);
  }
  const said = reply.ok ? `answered ${reply.value.status}` : reply.message;
  return failed(`sink: ${said} at ${url}`, 'start it (npm start) with its tunnel, and check SINK_URL');
}

const testsSummary = (run: { testsRun?: unknown; testsSucceeded?: unknown }) =>
  `${String(run.testsSucceeded)} of ${String(run.testsRun)}`;

export async function runChain(command: ChainCommand, deps: ChainDeps): Promise<{ failed: boolean }> {
  const hops: Hop[] = [];
  const say = (hop: Hop) => {
    hops.push(hop);
    deps.print(hop.line);
  };
  const kind = await detectKind(command, deps);
  if (kind === null) {
    say(
      failed(
        `forwarder: nothing at ${base(command.url)} answers GET /check as the Worker does`,
        'check --url, or add --direct for a sink',
      ),
    );
    return { failed: true };
  }
  const { secret, hop: secretHop } = await ensureSecret(command, deps, kind);
  say(secretHop);
  const { webhook, hop } = await ensureWebhook(command, deps, secret);
  say(hop);
  if (webhook !== null && typeof webhook.id === 'string') {
    const prior = kind === 'pipedream' ? null : await fetchReports(command, deps);
    const before = new Set(Array.isArray(prior) ? prior.map(reportKey) : []);
    const tests = await deps.client.test(webhook.id);
    if (!tests.ok) say(failed(`UP42: the test could not be started: ${tests.message}`, 'check the account'));
    else say(passed(`UP42 sent its test events: ${testsSummary(tests.value)} answered 2xx by ${deliveryUrl(command)}`));
    if (kind === 'pipedream') {
      say(
        unseen(
          "Pipedream: the validate step's `verification` export in the workflow's event history says what it verified",
        ),
      );
    } else {
      const report = await readReport(command, deps, before);
      if (report === 'not-verifying') {
        say(failed('the sink checks no signature: UP42_WEBHOOK_SECRET is not set on it', secretOnHost('sink')));
      } else say(verificationHop(kind, report, Math.round(command.waitMs / 1000)));
    }
  }
  say(await pingSink(command, deps));
  return { failed: hops.some((h) => h.ok === false) };
}
