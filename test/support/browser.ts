/**
 * A headless Chromium for the browser tests, driven by playwright-core, which never downloads one. The first of
 * these that launches is used: the executable in CHROME_PATH, Chromium where Linux distributions put it,
 * Google Chrome where playwright-core's `chrome` channel finds it (Linux, macOS, Windows), and on Linux x64 the
 * Chromium that the @sparticuz/chromium package ships (a compressed binary, unpacked once, without network,
 * into a folder of the system's temporary directory). When none launches, the error says how to get one: the
 * browser tests fail, they are never skipped.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox', // Chromium's sandbox refuses to start as root, as the tests run in CI
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** Where Debian, Ubuntu, Fedora and Arch install Chromium. */
const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

interface Candidate {
  what: string;
  options: () => Promise<LaunchOptions>;
  /** A headless-shell build, which reports Notification.permission 'denied' whatever was granted. */
  headlessShell?: boolean;
}

/**
 * The package's fonts.conf names AWS Lambda's folders (/tmp/fonts, /var/task/fonts); this one names the fonts it
 * ships where they were unpacked. Without any font, Chromium aborts as soon as a page shows a form control.
 */
const fontsConf = (dir: string) =>
  `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
  `  <dir>${path.join(dir, 'fonts', 'fonts')}</dir>\n  <cachedir>${path.join(dir, 'fonts-cache')}</cachedir>\n` +
  `</fontconfig>\n`;

/**
 * Unpacks @sparticuz/chromium's binary, fonts and graphics libraries once per package version. The package
 * unpacks into os.tmpdir(), shared by every process; it runs here in a child whose TMPDIR is a fresh folder,
 * renamed into place when complete, so parallel test workers never see a half-written browser.
 */
async function sparticuzChromium(): Promise<LaunchOptions> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error('@sparticuz/chromium ships Chromium for Linux x64 only');
  }
  const entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  const manifest = path.join(path.dirname(entry), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  // One folder per user (it is private to its owner) and version; one someone else made is never run.
  const uid = process.getuid?.() ?? 0;
  const dir = path.join(os.tmpdir(), `sparticuz-chromium-${version}-${uid}`);
  if (existsSync(dir) && lstatSync(dir).uid !== uid) throw new Error(`${dir} belongs to another user`);
  if (!existsSync(path.join(dir, 'chromium'))) {
    const staging = mkdtempSync(`${dir}-unpacking-`);
    try {
      const url = JSON.stringify(pathToFileURL(entry).href);
      const script = `const { default: C } = await import(${url}); await C.executablePath();`;
      await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, TMPDIR: staging },
      });
      writeFileSync(path.join(staging, 'fonts', 'fonts.conf'), fontsConf(dir));
      renameSync(staging, dir);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      // Another worker may have put its complete copy in place first; anything else is a real failure.
      if (!existsSync(path.join(dir, 'chromium'))) throw err;
    }
  }
  return {
    executablePath: path.join(dir, 'chromium'),
    env: { ...process.env, FONTCONFIG_PATH: path.join(dir, 'fonts') },
  };
}

function candidates(): Candidate[] {
  const fromEnv = process.env.CHROME_PATH;
  return [
    ...(fromEnv ? [{ what: `CHROME_PATH (${fromEnv})`, options: async () => ({ executablePath: fromEnv }) }] : []),
    ...SYSTEM_CHROMIUM.filter((file) => existsSync(file)).map((file) => ({
      what: file,
      options: async () => ({ executablePath: file }),
    })),
    { what: "playwright-core's chrome channel (Google Chrome)", options: async () => ({ channel: 'chrome' }) },
    { what: '@sparticuz/chromium', options: sparticuzChromium, headlessShell: true },
  ];
}

let found: Candidate | null = null;
const headlessShells = new WeakSet<Browser>();

/** Launches the first browser that starts; later launches in this process go straight to it. */
export async function launchChromium(): Promise<Browser> {
  const tried: string[] = [];
  for (const candidate of found ? [found] : candidates()) {
    try {
      const browser = await chromium.launch({ ...(await candidate.options()), headless: true, args: CHROMIUM_ARGS });
      found = candidate;
      if (candidate.headlessShell) headlessShells.add(browser);
      return browser;
    } catch (err) {
      tried.push(`${candidate.what}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`);
    }
  }
  throw new Error(
    'No Chromium or Chrome could be launched for the browser tests. Tried:\n  ' +
      tried.join('\n  ') +
      '\nInstall Chromium or Google Chrome, or set CHROME_PATH to the executable of a Chromium-based browser ' +
      '(on Linux x64, `npm install` brings one with @sparticuz/chromium).',
  );
}

// Globals of the page, for the function that runs in it: the tests compile without the DOM library.
declare const window: { Notification?: object };
declare const location: { origin: string };

/** Runs in the page: Notification.permission says what navigator.permissions and requestPermission() say. */
function reportGranted(origin: string): void {
  if (location.origin !== origin || window.Notification === undefined) return;
  Object.defineProperty(window.Notification, 'permission', { get: () => 'granted', configurable: true });
}

/**
 * Grants desktop notifications to `origin`. A headless-shell build (@sparticuz/chromium's) grants them
 * (navigator.permissions reports `granted`, requestPermission() resolves `granted`, notifications are shown) but
 * its Notification.permission stays `denied`, which the page reads; for that build alone the property is made to
 * report the grant, in the pages open now and in those opened later.
 */
export async function allowNotifications(context: BrowserContext, origin: string): Promise<void> {
  await context.grantPermissions(['notifications'], { origin });
  const browser = context.browser();
  if (browser === null || !headlessShells.has(browser)) return;
  await context.addInitScript(reportGranted, origin);
  for (const page of context.pages()) await page.evaluate(reportGranted, origin);
}
