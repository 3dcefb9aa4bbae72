import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/**
 * The inbox page's three files. index.html and inbox.css are read once at start. The script is TypeScript
 * (main.ts and its modules) bundled by esbuild into one file: `npm start`'s build writes it beside the sink's
 * bundle as inbox.js; a sink run from its sources (tsx, the tests) has no inbox.js and bundles main.ts itself
 * on the first request, so the page served is always the one in the sources. Without index.html a plain
 * page stands in.
 */
export interface InboxPages {
  index: Buffer;
  readonly js: Buffer | null;
  css: Buffer | null;
  fallback: boolean;
}

/** How the page's script is bundled, for browsers of the last few years; no source map, nothing minified. */
export const INBOX_BUNDLE = {
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
  charset: 'utf8',
  legalComments: 'none',
  logLevel: 'warning',
} as const satisfies BuildOptions;

export const INBOX_ENTRY = 'main.ts';

/**
 * The page's script bundled from `dir`'s TypeScript, or null when `dir` has none. esbuild is loaded here
 * only: a sink started from its build never bundles, so it never loads esbuild.
 */
export function bundleInboxScript(dir: string): Buffer | null {
  const entry = join(dir, INBOX_ENTRY);
  if (!existsSync(entry)) return null;
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({ ...INBOX_BUNDLE, entryPoints: [entry], write: false });
  const [file] = result.outputFiles;
  if (file === undefined) throw new Error(`esbuild wrote nothing for ${entry}`);
  return Buffer.from(file.contents);
}

export const DEFAULT_INBOX_DIR = fileURLToPath(new URL('./inbox/', import.meta.url));

/** Applies to every page response; the inbox page loads only its own script and style. */
export const PAGE_SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
};

const FALLBACK_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Webhook sink</title></head>
<body>
<h1>Webhook sink</h1>
<p>The sink is running. <a href="/dump-webhooks">All webhooks</a> (one JSON document per line) &middot;
<a href="/stats">Store statistics</a></p>
</body>
</html>
`;

const readOptional = (path: string): Buffer | null => {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
};

export function loadInboxPages(dir: string = DEFAULT_INBOX_DIR): InboxPages {
  const index = readOptional(join(dir, 'index.html'));
  let js: Buffer | null | undefined = readOptional(join(dir, 'inbox.js')) ?? undefined;
  return {
    index: index ?? Buffer.from(FALLBACK_PAGE),
    get js() {
      js ??= bundleInboxScript(dir);
      return js;
    },
    css: readOptional(join(dir, 'inbox.css')),
    fallback: index === null,
  };
}
