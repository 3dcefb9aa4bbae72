import { describe, expect, it } from '@jest/globals';
import { sinkUrl } from '../../sink/inbox/urls.js';

/* The inbox's request URLs, in Node: from the origin, so a page opened as http://user:pass@host/ still loads. */

describe('sinkUrl', () => {
  it('puts the path and the query on the origin', () => {
    expect(sinkUrl('http://127.0.0.1:9888', '/dump-webhooks', 'order=desc&limit=100')).toBe(
      'http://127.0.0.1:9888/dump-webhooks?order=desc&limit=100',
    );
    expect(sinkUrl('http://127.0.0.1:9888', '/events')).toBe('http://127.0.0.1:9888/events');
  });

  it('never carries credentials: what the page address held is not in its origin', () => {
    const origin = new URL('http://relay:change-me-please@127.0.0.1:9888/?event=job.status').origin;
    const url = sinkUrl(origin, '/events', 'event=job.status');
    expect(url).toBe('http://127.0.0.1:9888/events?event=job.status');
    // What Chromium refused to fetch: a URL with a user name or password in it.
    expect(new URL(url).username).toBe('');
    expect(new URL(url).password).toBe('');
  });
});
