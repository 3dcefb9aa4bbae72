import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The inbox page's three files, read once at start. Without index.html a plain page stands in. */
export interface InboxPages {
  index: Buffer;
  js: Buffer | null;
  css: Buffer | null;
  fallback: boolean;
}

export const DEFAULT_INBOX_DIR = fileURLToPath(new URL('./inbox/', import.meta.url));

/** Applies to every page response; the inbox page loads only its own script and style. */
export const PAGE_SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
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
  return {
    index: index ?? Buffer.from(FALLBACK_PAGE),
    js: readOptional(join(dir, 'inbox.js')),
    css: readOptional(join(dir, 'inbox.css')),
    fallback: index === null,
  };
}
