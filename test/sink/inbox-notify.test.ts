/**
 * Desktop notifications from the inbox page, in Chromium (test/support/browser.ts) through playwright-core
 * against a real sink process. The test grants the permission; an init script wraps `window.Notification` to
 * record each one the page raises (and lets the test click it), then hands it to the browser's own.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { makeEvent } from '../../shared/events.js';
import {
  allowNotifications,
  eventually,
  launchChromium,
  postWebhook,
  startSink,
  webhook,
  type Credentials,
  type SinkProcess,
} from './inbox-support.js';

const credentials: Credentials = { username: 'notify', password: randomBytes(12).toString('hex') };

// Globals of the page, for the functions that run in it: the tests compile without the DOM library.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const localStorage: any;

interface Raised {
  title: string;
  body: string;
  tag: string;
}

/** Runs in the page before its script: every notification constructed is recorded, then shown as usual. */
function recordNotifications(): void {
  const Original = window.Notification;
  const raised: unknown[] = [];
  window.__raised = raised;
  window.Notification = class extends Original {
    constructor(title: string, options: { body?: string; tag?: string } = {}) {
      super(title, options);
      raised.push(this);
      const info = { title, body: options.body ?? '', tag: options.tag ?? '' };
      window.__raisedInfo = [...(window.__raisedInfo ?? []), info];
    }
  };
}

const raised = (page: Page): Promise<Raised[]> => page.evaluate(() => window.__raisedInfo ?? []);
const pressed = (page: Page) => page.locator('#notify-toggle').getAttribute('aria-pressed');
const rowFor = (page: Page, key: number) => page.locator(`#list > li[data-key="${key}"]`);
const live = (event: 'job.status' | 'order.status', status: string) =>
  makeEvent({ event, status, liveMode: true, messageId: randomUUID(), timestamp: new Date().toISOString() });
const failedJob = () => live('job.status', 'FAILED');

describe('desktop notifications from the inbox page', () => {
  let browser: Browser;
  let sink: SinkProcess;
  let dataDir: string;
  const contexts: BrowserContext[] = [];

  async function openPage(context: BrowserContext): Promise<{ page: Page; problems: string[]; streams: string[] }> {
    const page = await context.newPage();
    const problems: string[] = [];
    const streams: string[] = [];
    // A stream's response has arrived once the sink has taken the stream on: from then on it sees every record.
    page.on('response', (r) => {
      if (r.url().startsWith(`${sink.url}/events`)) streams.push(r.url().slice(sink.url.length));
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(`${sink.url}/`);
    await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 10_000 });
    return { page, problems, streams };
  }

  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext({ httpCredentials: credentials, viewport: { width: 1200, height: 800 } });
    contexts.push(context);
    await allowNotifications(context, sink.url);
    await context.addInitScript(recordNotifications);
    return context;
  }

  /** The same sink again on its old port; another process may briefly hold the port as a client's. */
  async function restartOn(port: number): Promise<SinkProcess> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await startSink({ dataDir, credentials, port });
      } catch (err) {
        if (attempt >= 10 || !/EADDRINUSE/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  }

  beforeAll(async () => {
    browser = await launchChromium();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'inbox-notify-'));
    sink = await startSink({ dataDir, credentials });
  }, 30_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await sink?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('raises one for a failed live job, none for a running job or a test event; the title counts them', async () => {
    const context = await newContext();
    const { page, problems } = await openPage(context);
    const toggle = page.locator('#notify-toggle');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    expect(await page.locator('#n-statuses').inputValue()).toBe('ERROR, FAILED, FAILED_PERMANENTLY, CANCELLED');
    expect(await page.locator('#n-live').isChecked()).toBe(true);
    const stream = page.waitForResponse((r) => r.url() === `${sink.url}/events?liveMode=true`);
    await toggle.click();
    await eventually(async () => expect(await toggle.getAttribute('aria-pressed')).toBe('true'));
    await stream;

    const running = await postWebhook(sink, credentials, webhook('job.status', 'RUNNING', true));
    const testFailed = await postWebhook(sink, credentials, webhook('job.status', 'FAILED', false));
    const job = failedJob();
    const failed = await postWebhook(sink, credentials, job);
    await eventually(async () => expect(await raised(page)).toHaveLength(1));
    // The stream carries records in key order: the two before the failed one were passed over.
    expect(running).toBeLessThan(failed);
    expect(testFailed).toBeLessThan(failed);
    const [note] = await raised(page);
    expect(note!.title).toBe('job.status FAILED');
    // A live job's id is body.id, as in UP42's real deliveries; they carry no job name.
    expect(note!.body).toBe(`Job ${(job.body as { id: string }).id}\n#${failed} · live`);
    expect(note!.tag).toBe(`webhook-${failed}`);
    expect(await page.title()).toBe('(1) Webhook inbox');

    const order = live('order.status', 'FAILED PERMANENTLY');
    const orderKey = await postWebhook(sink, credentials, order);
    await eventually(async () => expect(await raised(page)).toHaveLength(2));
    expect((await raised(page))[1]).toEqual({
      title: 'order.status FAILED_PERMANENTLY',
      body: `Order ${(order.body as { orderId: string }).orderId} (ARCHIVE)\n#${orderKey} · live`,
      tag: `webhook-${orderKey}`,
    });
    expect(await page.title()).toBe('(2) Webhook inbox');

    // A click shows that webhook, expanded, even when the list's filters hide it; the count is then seen.
    await page.locator('#f-event').selectOption('order.status');
    await eventually(async () => expect(await rowFor(page, orderKey).count()).toBe(1));
    expect(await rowFor(page, failed).count()).toBe(0);
    await page.evaluate(() => window.__raised[0].dispatchEvent(new Event('click')));
    const summary = rowFor(page, failed).locator('button.summary');
    await eventually(async () => expect(await summary.getAttribute('aria-expanded')).toBe('true'));
    expect(await page.locator('#f-event').inputValue()).toBe('');
    expect(new URL(page.url()).search).toBe('');
    expect(await page.title()).toBe('Webhook inbox');
    expect(problems).toEqual([]);
  });

  it('says so, and stays off, when the browser does not allow notifications', async () => {
    const context = await browser.newContext({ httpCredentials: credentials });
    contexts.push(context);
    await context.addInitScript(recordNotifications);
    const { page, problems } = await openPage(context);
    await page.locator('#notify-toggle').click();
    const state = page.locator('#notify-state');
    await eventually(async () => expect(await state.textContent()).toMatch(/did not allow notifications/));
    expect(await pressed(page)).toBe('false');
    expect(await page.evaluate(() => localStorage.getItem('webhook-inbox.notifications'))).toBeNull();
    expect(problems).toEqual([]);
  });

  it('notifies, after the sink comes back, what was stored while the page could not listen', async () => {
    const context = await newContext();
    const { page, problems, streams } = await openPage(context);
    await page.locator('#notify-toggle').click();
    await eventually(async () => expect(await pressed(page)).toBe('true'));
    // Notifications are for what arrives once their stream is open: post only when the sink has taken it on.
    await eventually(() => expect(streams).toContain('/events?liveMode=true'));
    const before = await postWebhook(sink, credentials, failedJob());
    await eventually(async () => expect(await raised(page)).toHaveLength(1));

    // Hold the page's streams back, so that what is posted next can only reach it by a replay.
    await page.route('**/events*', (route) => route.abort('connectionrefused'));
    const port = sink.port;
    await sink.stop();
    sink = await restartOn(port);
    const missed = await postWebhook(sink, credentials, failedJob());
    expect(missed).toBe(before + 1);
    const replay = page.waitForResponse((r) => r.url() === `${sink.url}/events?liveMode=true&since=${before}`);
    await page.unroute('**/events*');
    await replay;
    await eventually(async () => expect(await raised(page)).toHaveLength(2));
    expect((await raised(page))[1]!.tag).toBe(`webhook-${missed}`);
    expect(problems.filter((p) => !/ERR_CONNECTION_REFUSED|ERR_FAILED|net::/.test(p))).toEqual([]);
  }, 30_000);

  it('keeps the choice and the filter over a reload, and stops when switched off', async () => {
    const context = await newContext();
    const first = await openPage(context);
    await first.page.locator('#notify-toggle').click();
    await eventually(async () => expect(await pressed(first.page)).toBe('true'));
    await first.page.locator('#n-statuses').fill('running');
    await first.page.locator('#n-live').uncheck();
    await first.page.locator('#n-event').selectOption('job.status');
    await first.page.close();

    const { page, problems, streams } = await openPage(context);
    expect(await page.locator('#notify-toggle').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('#n-statuses').inputValue()).toBe('running');
    expect(await page.locator('#n-live').isChecked()).toBe(false);
    expect(await page.evaluate(() => JSON.parse(localStorage.getItem('webhook-inbox.notifications')))).toEqual({
      enabled: true,
      event: 'job.status',
      statuses: 'running',
      liveOnly: false,
    });
    // Opened at load, without a click: the list's stream and the notifications' own.
    await eventually(() => expect([...streams].sort()).toEqual(['/events', '/events?event=job.status']));
    await postWebhook(sink, credentials, failedJob());
    const running = await postWebhook(sink, credentials, webhook('job.status', 'RUNNING', false));
    await eventually(async () => expect(await raised(page)).toHaveLength(1));
    expect((await raised(page))[0]!.title).toBe('job.status RUNNING');
    expect((await raised(page))[0]!.body).toContain(`#${running} · test`);

    await page.locator('#notify-toggle').click();
    await eventually(async () => expect(await pressed(page)).toBe('false'));
    const after = await postWebhook(sink, credentials, webhook('job.status', 'RUNNING', false));
    await eventually(async () => expect(await rowFor(page, after).count()).toBe(1));
    expect(await raised(page)).toHaveLength(1);
    expect(problems).toEqual([]);
  });
});
