/**
 * The inbox page in a real browser (Chromium from test/support/browser.ts, through playwright-core) against a real sink
 * process: live arrival over SSE, filters kept in the URL, expansion and copy, untrusted text, restart
 * and catch-up, 10,000 stored webhooks, narrow and dark screens. Writes docs/inbox.png when
 * UPDATE_INBOX_SCREENSHOT=1.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { sampleFailedJobEvent } from '../../shared/events.js';
import {
  REPO_ROOT,
  allowNotifications,
  eventually,
  getJson,
  launchChromium,
  postWebhook,
  startSink,
  webhook,
  writeStoreFile,
  type Credentials,
  type SinkProcess,
} from './inbox-support.js';

interface Stats {
  count: number;
  bytes: number;
  maxBytes: number;
  lastKey: number;
}

const credentials: Credentials = { username: 'inbox', password: randomBytes(12).toString('hex') };

const rows = (page: Page) => page.locator('#list > li');
// Globals of the page, for the functions that run in it: the tests compile without the DOM library.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare const navigator: any;
declare const getComputedStyle: any;

const keysShown = (page: Page): Promise<number[]> =>
  rows(page).evaluateAll((els) => els.map((e: any) => Number(e.dataset.key)));
const hasFocus = (locator: Locator): Promise<boolean> => locator.evaluate((el) => el === document.activeElement);
const text = async (page: Page, selector: string) => (await page.locator(selector).textContent()) ?? '';
const connectionState = (page: Page) => page.locator('#connection').getAttribute('data-state');
const rowFor = (page: Page, key: number) => page.locator(`#list > li[data-key="${key}"]`);

interface Inbox {
  page: Page;
  context: BrowserContext;
  /** Console errors (a CSP violation among them) and requests to any other origin. */
  problems: string[];
}

describe('the inbox page', () => {
  let browser: Browser;
  let sink: SinkProcess;
  let dataDir: string;
  const contexts: BrowserContext[] = [];
  const extraSinks: SinkProcess[] = [];
  const tempDirs: string[] = [];

  async function openInbox(target: SinkProcess, query = '', options: BrowserContextOptions = {}): Promise<Inbox> {
    const context = await browser.newContext({
      httpCredentials: credentials,
      viewport: { width: 1200, height: 800 },
      ...options,
    });
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(`${target.url}/`)) problems.push(`request to another origin: ${r.url()}`);
    });
    await page.goto(`${target.url}/${query}`);
    await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 10_000 });
    return { page, context, problems };
  }

  /** The same sink again on its old port; another process may briefly hold the port as a client's. */
  async function restartOn(port: number, dir = dataDir): Promise<SinkProcess> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await startSink({ dataDir: dir, credentials, port });
      } catch (err) {
        if (attempt >= 10 || !/EADDRINUSE/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  }

  /** A console error is expected while the sink is down (the failed stream); nothing else is. */
  const unexpected = (problems: string[]) =>
    problems.filter((p) => !/ERR_CONNECTION_REFUSED|ERR_FAILED|ERR_EMPTY_RESPONSE|net::/.test(p));

  beforeAll(async () => {
    browser = await launchChromium();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'inbox-test-'));
    tempDirs.push(dataDir);
    sink = await startSink({ dataDir, credentials });
  }, 30_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await sink?.stop();
    for (const s of extraSinks) await s.stop();
    for (const d of tempDirs) await rm(d, { recursive: true, force: true });
  }, 30_000);

  it('shows webhooks the moment the sink stores them, newest first, with the store count and fill', async () => {
    const { page, problems } = await openInbox(sink);
    expect(await connectionState(page)).toBe('connected');
    expect(await text(page, '#connection-text')).toBe('Live');
    // The live stream can open before the page's first fetch of the store has answered: the empty state shows
    // once that fetch is in.
    await eventually(async () => expect(await page.locator('#empty').isVisible()).toBe(true));
    expect(await rows(page).count()).toBe(0);

    const succeeded = await postWebhook(sink, credentials, webhook('job.status', 'SUCCEEDED', false));
    const fulfilled = await postWebhook(sink, credentials, webhook('order.status', 'FULFILLED', true));
    const failed = await postWebhook(sink, credentials, webhook('job.status', 'FAILED', true));
    const cancelled = await postWebhook(sink, credentials, webhook('job.status', 'CANCELLED', true));
    const running = await postWebhook(sink, credentials, webhook('job.status', 'RUNNING', false));

    await eventually(async () =>
      expect(await keysShown(page)).toEqual([running, cancelled, failed, fulfilled, succeeded]),
    );
    const tone = (key: number) => rowFor(page, key).locator('.status').getAttribute('class');
    expect(await tone(succeeded)).toContain('tone-ok');
    expect(await tone(fulfilled)).toContain('tone-ok');
    expect(await tone(failed)).toContain('tone-bad');
    expect(await tone(cancelled)).toContain('tone-warn');
    expect(await tone(running)).toContain('tone-other');
    expect(await rowFor(page, fulfilled).locator('.mode').textContent()).toBe('live');
    expect(await rowFor(page, succeeded).locator('.mode').textContent()).toBe('test');
    expect(await rowFor(page, fulfilled).locator('.event').textContent()).toBe('order.status');
    expect(await rowFor(page, failed).locator('.time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);

    const stats = await getJson<Stats>(sink, credentials, '/stats');
    await eventually(async () => expect(await text(page, '#store-count')).toBe(String(stats.count)));
    const meter = await page.locator('#store-meter').evaluate((m: any) => Number(m.value));
    expect(meter).toBeCloseTo(stats.bytes / stats.maxBytes, 6);
    expect(await text(page, '#store-fill')).toMatch(/ of 256 MiB \((< 0\.1|\d+(\.\d)?)% full\)$/);
    expect(problems).toEqual([]);
  });

  it('loads and goes live when opened with the credentials in the URL', async () => {
    // No httpCredentials: the page's own address carries them, as a pasted http://user:pass@host/ does.
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    const withCredentials = new URL(sink.url);
    withCredentials.username = credentials.username;
    withCredentials.password = credentials.password;
    await page.goto(withCredentials.href);
    await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 10_000 });
    const key = await postWebhook(sink, credentials, webhook('job.status', 'FAILED', true));
    await eventually(async () => expect(await keysShown(page)).toContain(key));
    expect(await text(page, '#shown')).not.toMatch(/Could not/);
    expect(await rowFor(page, key).locator('.subject').textContent()).toMatch(/^Job /);
    expect(problems).toEqual([]);
  });

  it('filters on the sink, the stored webhooks and the live ones, and keeps the filters in the URL', async () => {
    const { page, problems } = await openInbox(sink);
    const marker = `needle-${randomUUID()}`;
    const liveFailed = await postWebhook(sink, credentials, webhook('job.status', 'FAILED', true, { jobName: marker }));
    const testFailed = await postWebhook(sink, credentials, webhook('job.status', 'failed', false));
    const permanent = await postWebhook(sink, credentials, webhook('order.status', 'FAILED_PERMANENTLY', true));
    await eventually(async () => expect((await keysShown(page))[0]).toBe(permanent));

    // The sink filters: the page's stream asks it for the filters, as its dump requests do.
    const filteredStream = page.waitForRequest((r) => /\/events\?status=Failed$/.test(r.url()));
    await page.locator('#f-status').fill('Failed');
    await eventually(async () => expect(page.url()).toContain('status=Failed'));
    await filteredStream;
    await eventually(async () => {
      const keys = await keysShown(page);
      expect(keys.slice(0, 2)).toEqual([testFailed, liveFailed]);
      for (const k of keys) expect(await rowFor(page, k).locator('.status').textContent()).toMatch(/^failed$/i);
    });

    // Live records pass the same filter: a SUCCEEDED one sent before a FAILED one never shows up.
    const skipped = await postWebhook(sink, credentials, webhook('job.status', 'SUCCEEDED', true));
    const shown = await postWebhook(sink, credentials, webhook('job.status', 'FAILED', false));
    await eventually(async () => expect((await keysShown(page))[0]).toBe(shown));
    expect(await rowFor(page, skipped).count()).toBe(0);

    await page.locator('#f-mode').selectOption('true');
    await eventually(async () => expect(page.url()).toMatch(/liveMode=true/));
    await eventually(async () => expect((await keysShown(page))[0]).toBe(liveFailed));
    for (const k of await keysShown(page)) expect(await rowFor(page, k).locator('.mode').textContent()).toBe('live');

    const searchStream = page.waitForRequest((r) =>
      r.url().endsWith(`/events?status=Failed&liveMode=true&q=${marker.toUpperCase()}`),
    );
    await page.locator('#f-q').fill(marker.toUpperCase());
    await searchStream;
    await eventually(async () => expect(page.url()).toContain(`q=${marker.toUpperCase()}`));
    await eventually(async () => expect(await keysShown(page)).toEqual([liveFailed]));

    await page.locator('#f-mode').selectOption('false');
    await eventually(async () =>
      expect(await page.locator('#empty').textContent()).toBe('No stored webhook matches these filters.'),
    );
    expect(await rows(page).count()).toBe(0);

    // The URL is the bookmark: a new tab with it shows the same view, filters filled in.
    const bookmarked = await openInbox(sink, `?event=order.status&liveMode=true`);
    expect(await bookmarked.page.locator('#f-event').inputValue()).toBe('order.status');
    expect(await bookmarked.page.locator('#f-mode').inputValue()).toBe('true');
    await eventually(async () => expect((await keysShown(bookmarked.page))[0]).toBe(permanent));
    for (const k of await keysShown(bookmarked.page)) {
      expect(await rowFor(bookmarked.page, k).locator('.event').textContent()).toBe('order.status');
    }

    await page.locator('#f-clear').click();
    await eventually(async () => expect(new URL(page.url()).search).toBe(''));
    await eventually(async () => expect((await keysShown(page)).slice(0, 2)).toEqual([shown, skipped]));
    expect([...problems, ...bookmarked.problems]).toEqual([]);
  });

  it('searches live webhooks in the bytes the sink stored, as a reload does', async () => {
    // The raw body spells the name with an escape and a space after each colon. The sink matches the term
    // against those bytes; the body parsed and serialised again reads "jobName":"café-…", without the term.
    const marker = randomUUID();
    const term = `"jobName": "caf\\u00e9-${marker}`;
    const { page, problems } = await openInbox(sink, `?q=${encodeURIComponent(term)}`);
    await eventually(async () => expect(await page.locator('#f-q').inputValue()).toBe(term));
    const raw = (messageId: string, name: string) =>
      `{"event": "job.status", "messageId": "${messageId}", "liveMode": true, ` +
      `"body": {"status": "FAILED", "jobName": "${name}"}}`;
    const other = await postWebhook(sink, credentials, raw(randomUUID(), `cafe-${marker}`), { raw: true });
    const hit = await postWebhook(sink, credentials, raw(randomUUID(), `caf\\u00e9-${marker}`), { raw: true });
    await eventually(async () => expect(await keysShown(page)).toEqual([hit]));
    expect(await rowFor(page, other).count()).toBe(0);

    // The same search as a fresh load, filtered by the sink, shows the same rows.
    const reloaded = await openInbox(sink, `?q=${encodeURIComponent(term)}`);
    await eventually(async () => expect(await keysShown(reloaded.page)).toEqual([hit]));
    expect([...problems, ...reloaded.problems]).toEqual([]);
  });

  it('expands a row from the keyboard to its pretty-printed JSON, and copies it', async () => {
    const { page, context, problems } = await openInbox(sink);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: sink.url });
    const older = webhook('job.status', 'SUCCEEDED', true);
    const newer = { ...sampleFailedJobEvent, messageId: randomUUID() };
    const olderKey = await postWebhook(sink, credentials, older);
    const newerKey = await postWebhook(sink, credentials, newer);
    await eventually(async () => expect((await keysShown(page)).slice(0, 2)).toEqual([newerKey, olderKey]));

    const first = rowFor(page, newerKey).locator('button.summary');
    expect(await first.getAttribute('aria-expanded')).toBe('false');
    expect(await rowFor(page, newerKey).locator('.detail').isVisible()).toBe(false);
    await first.focus();
    await page.keyboard.press('Enter');
    expect(await first.getAttribute('aria-expanded')).toBe('true');
    const pretty = JSON.stringify(newer, null, 2);
    expect(await rowFor(page, newerKey).locator('pre.json').textContent()).toBe(pretty);

    // Arrow down reaches the next row, Space opens it, Enter again closes the first one.
    await page.keyboard.press('ArrowDown');
    const second = rowFor(page, olderKey).locator('button.summary');
    expect(await hasFocus(second)).toBe(true);
    await page.keyboard.press('Space');
    expect(await second.getAttribute('aria-expanded')).toBe('true');
    expect(await rowFor(page, olderKey).locator('pre.json').textContent()).toBe(JSON.stringify(older, null, 2));
    await first.focus();
    await page.keyboard.press('Enter');
    expect(await first.getAttribute('aria-expanded')).toBe('false');
    expect(await rowFor(page, newerKey).locator('.detail').isVisible()).toBe(false);

    await second.click();
    await second.click();
    await rowFor(page, olderKey).locator('button.copy').click();
    await eventually(async () => expect(await rowFor(page, olderKey).locator('.copied').textContent()).toBe('Copied'));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(JSON.stringify(older, null, 2));
    expect(problems).toEqual([]);
  });

  it('shows markup in a webhook as text and never runs it, live and on load', async () => {
    const { page, problems } = await openInbox(sink);
    const img = '<img src=x onerror="window.__inboxPwned=1">';
    const script = '<script>window.__inboxPwned=2</script>';
    const hostile = {
      event: `job.status${img}`,
      liveMode: true,
      messageId: `${randomUUID()}<img src=x onerror=window.__inboxPwned=3>`,
      timestamp: new Date().toISOString(),
      body: { jobId: img, jobName: `</pre>${img}`, status: script },
    };
    const key = await postWebhook(sink, credentials, hostile);

    const check = async (p: Page) => {
      const row = rowFor(p, key);
      await row.waitFor();
      expect(await row.locator('.status').textContent()).toBe(script);
      expect(await row.locator('.event').textContent()).toBe(hostile.event);
      expect(await row.locator('.subject').textContent()).toBe(`Job ${img} (</pre>${img})`);
      await row.locator('button.summary').click();
      expect(await row.locator('.received').textContent()).toContain(`message ${hostile.messageId}`);
      expect(await row.locator('pre.json').textContent()).toBe(JSON.stringify(hostile, null, 2));
      // Not one element was made from the body, in the list or in the event filter.
      expect(await p.locator('#list img, #list script, #f-event img').count()).toBe(0);
      expect(await p.locator('#f-event option', { hasText: 'onerror' }).count()).toBe(1);
      expect(await p.evaluate(() => window.__inboxPwned)).toBeUndefined();
    };
    await check(page); // arrived live
    const reloaded = await openInbox(sink);
    await check(reloaded.page); // read from the dump
    expect([...problems, ...reloaded.problems]).toEqual([]);
  });

  it('reconnects by itself after the sink restarts and fetches what it missed', async () => {
    const { page, problems } = await openInbox(sink);
    const before = await postWebhook(sink, credentials, webhook('order.status', 'FULFILLED', true));
    await eventually(async () => expect((await keysShown(page))[0]).toBe(before));

    // Hold the page's new event streams back, so that what is posted next can only reach it by catching up.
    let streamsRefused = 0;
    await page.route('**/events*', (route) => {
      streamsRefused += 1;
      return route.abort('connectionrefused');
    });
    const port = sink.port;
    await sink.stop();
    try {
      await eventually(async () => expect(await connectionState(page)).not.toBe('connected'));
      expect(await text(page, '#connection-text')).toMatch(/Reconnecting|Offline/);
      sink = await restartOn(port);
    } catch (err) {
      // Leave a running sink for the tests after this one.
      sink = await startSink({ dataDir, credentials });
      throw err;
    }
    expect(sink.port).toBe(port);
    const missed1 = await postWebhook(sink, credentials, webhook('job.status', 'FAILED', true));
    const missed2 = await postWebhook(sink, credentials, webhook('job.status', 'SUCCEEDED', true));
    expect(await rowFor(page, missed1).count()).toBe(0);
    // The page retries on its own back-off schedule: wait until it has tried (and been refused) at least once.
    await eventually(() => expect(streamsRefused).toBeGreaterThan(0), 10_000);

    const catchUp = page.waitForRequest(
      (r) => r.url().includes('/dump-webhooks?') && r.url().includes(`since=${before}`),
      { timeout: 10_000 },
    );
    await page.unroute('**/events*');
    await catchUp;
    await eventually(
      async () => expect((await keysShown(page)).slice(0, 3)).toEqual([missed2, missed1, before]),
      10_000,
    );
    expect(await connectionState(page)).toBe('connected');
    expect(await text(page, '#connection-text')).toBe('Live');
    const stats = await getJson<Stats>(sink, credentials, '/stats');
    await eventually(async () => expect(await text(page, '#store-count')).toBe(String(stats.count)));

    // And it is live again.
    const after = await postWebhook(sink, credentials, webhook('job.status', 'ERROR', true));
    await eventually(async () => expect((await keysShown(page))[0]).toBe(after));
    expect(new Set(await keysShown(page)).size).toBe(await rows(page).count());
    expect(unexpected(problems)).toEqual([]);
  }, 45_000);

  it('notices, on reconnecting, a store emptied while it was away', async () => {
    const { page, problems } = await openInbox(sink);
    await postWebhook(sink, credentials, webhook('job.status', 'FAILED', true));
    const seen = await postWebhook(sink, credentials, webhook('job.status', 'FAILED', true));
    await eventually(async () => expect((await keysShown(page))[0]).toBe(seen));
    expect(seen).toBeGreaterThan(1);
    const port = sink.port;
    await sink.stop();
    await eventually(async () => expect(await connectionState(page)).not.toBe('connected'));
    // Same address, an empty data directory: its keys start again at 1, below what the page has seen.
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'inbox-test-'));
    tempDirs.push(dataDir);
    try {
      sink = await restartOn(port);
    } catch (err) {
      sink = await startSink({ dataDir, credentials });
      throw err;
    }
    const fresh = await postWebhook(sink, credentials, webhook('job.status', 'SUCCEEDED', true));
    expect(fresh).toBe(1);
    await eventually(async () => expect(await keysShown(page)).toEqual([1]), 10_000);
    await eventually(async () => expect(await text(page, '#store-count')).toBe('1'));
    expect(unexpected(problems)).toEqual([]);
  }, 45_000);

  it('starts over when the store is cleared', async () => {
    const { page, problems } = await openInbox(sink);
    const before = await postWebhook(sink, credentials, webhook('order.status', 'FULFILLED', true));
    await eventually(async () => expect((await keysShown(page))[0]).toBe(before));
    await getJson(sink, credentials, '/dump-webhooks', 'DELETE');
    await eventually(async () => expect(await rows(page).count()).toBe(0));
    await eventually(async () => expect(await text(page, '#store-count')).toBe('0'));
    const first = await postWebhook(sink, credentials, webhook('job.status', 'SUCCEEDED', true));
    await eventually(async () => expect(await keysShown(page)).toEqual([first]));
    expect(problems).toEqual([]);
  });

  it('keeps one page of rows in the DOM with 10,000 webhooks stored', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'inbox-big-'));
    tempDirs.push(dir);
    const statuses = ['SUCCEEDED', 'FAILED', 'FULFILLED', 'RUNNING'] as const;
    const bodies = Array.from({ length: 10_000 }, (_, i) =>
      webhook(i % 2 === 0 ? 'job.status' : 'order.status', statuses[i % 4]!, i % 3 !== 0, {
        jobName: `seed-${String(i + 1).padStart(5, '0')}-end`,
      }),
    );
    await writeStoreFile(dir, bodies, Date.now() - 3_600_000);
    const big = await startSink({ dataDir: dir, credentials });
    extraSinks.push(big);

    const { page, problems } = await openInbox(big);
    await eventually(async () => expect(await text(page, '#store-count')).toBe('10,000'));
    await eventually(async () => expect(await rows(page).count()).toBe(100));
    const keys = await keysShown(page);
    expect(keys[0]).toBe(10_000);
    expect(keys[99]).toBe(9_901);
    expect(await page.locator('#list pre').count()).toBe(0); // details are built when opened
    expect(await page.locator('#older').isVisible()).toBe(true);

    await page.locator('#older').click();
    await eventually(async () => expect(await rows(page).count()).toBe(200));
    expect((await keysShown(page))[199]).toBe(9_801);

    // Searching asks the sink: one match among 10,000.
    await page.locator('#f-q').fill('seed-01234-end');
    await eventually(async () => expect(await keysShown(page)).toEqual([1234]));
    await rowFor(page, 1234).locator('button.summary').click();
    expect(await rowFor(page, 1234).locator('pre.json').textContent()).toBe(JSON.stringify(bodies[1233], null, 2));
    expect(await page.locator('#older').isVisible()).toBe(false);

    // A filter over all of them still shows one page, with the rest a click away.
    await page.locator('#f-q').fill('');
    await page.locator('#f-status').fill('FAILED');
    await eventually(async () => expect(await keysShown(page).then((k) => k.slice(0, 2))).toEqual([9_998, 9_994]));
    expect(await rows(page).count()).toBe(100);
    expect(await page.locator('#older').isVisible()).toBe(true);
    expect(problems).toEqual([]);
  }, 60_000);

  it('fits a phone, follows dark mode, and reaches the search with "/"', async () => {
    const light = await openInbox(sink, '', { viewport: { width: 360, height: 740 }, colorScheme: 'light' });
    await postWebhook(
      sink,
      credentials,
      webhook('order.status', 'FAILED_PERMANENTLY', true, { orderType: 'x'.repeat(300) }),
    );
    await eventually(async () => expect(await rows(light.page).count()).toBeGreaterThan(0));
    await rows(light.page).first().locator('button.summary').click();
    expect(await light.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

    const luminance = async (p: Page) => {
      const colour = String(await p.evaluate(() => getComputedStyle(document.body).backgroundColor));
      const [r = 0, g = 0, b = 0] = (colour.match(/\d+/g) ?? []).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    };
    const dark = await openInbox(sink, '', { colorScheme: 'dark' });
    expect(await luminance(light.page)).toBeGreaterThan(0.8);
    expect(await luminance(dark.page)).toBeLessThan(0.2);

    await dark.page.locator('h1').click();
    await dark.page.keyboard.press('/');
    expect(await hasFocus(dark.page.locator('#f-q'))).toBe(true);
    expect([...light.problems, ...dark.problems]).toEqual([]);
  });

  it('renders the README screenshot: a few webhooks of each kind, one expanded', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'inbox-shot-'));
    tempDirs.push(dir);
    // A small store, so that the fill bar shows.
    const shot = await startSink({ dataDir: dir, credentials, store: 'memory', maxBytes: 48 * 1024 });
    extraSinks.push(shot);
    const look = { reducedMotion: 'reduce', colorScheme: 'light', viewport: { width: 1200, height: 900 } } as const;
    const { page, context, problems } = await openInbox(shot, '', look);
    await allowNotifications(context, shot.url);
    await page.locator('#notify-toggle').click();
    await eventually(async () => expect(await page.locator('#notify-toggle').textContent()).toBe('Notifications on'));
    const sent = [
      webhook('job.status', 'SUCCEEDED', false, { jobName: 'Test job' }),
      webhook('order.status', 'FULFILLED', true),
      webhook('job.status', 'CANCELLED', true, { jobName: 'Sentinel-2 mosaic' }),
      { ...sampleFailedJobEvent, messageId: randomUUID(), timestamp: new Date().toISOString() },
      webhook('order.status', 'FAILED_PERMANENTLY', true),
      webhook('job.status', 'RUNNING', true, { jobName: 'Pleiades over Lyon' }),
    ];
    const keys: number[] = [];
    for (const body of sent) keys.push(await postWebhook(shot, credentials, body));
    await eventually(async () => expect(await rows(page).count()).toBe(sent.length));
    await rowFor(page, keys[1]!).locator('button.summary').click();
    await page.locator('h1').click(); // no focus ring in the picture
    const file = path.join(dir, 'inbox.png');
    await page.screenshot({ path: file });
    expect((await stat(file)).size).toBeGreaterThan(20_000);
    if (process.env.UPDATE_INBOX_SCREENSHOT === '1') await copyFile(file, path.join(REPO_ROOT, 'docs/inbox.png'));
    expect(problems).toEqual([]);
  });
});
