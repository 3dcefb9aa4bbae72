/**
 * Where the page sends its requests. Always to `location.origin`, never a path resolved against the page's own
 * address: opened as http://user:pass@host/, that address holds credentials, and browsers refuse to fetch a URL
 * that does (Chromium: "Request cannot be constructed from a URL that includes credentials"). The browser still
 * sends the basic auth it was given for the origin. Pure.
 */
export function sinkUrl(origin: string, path: string, query = ''): string {
  return `${origin}${path}${query ? `?${query}` : ''}`;
}
