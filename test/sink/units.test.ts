import { describe, expect, it } from '@jest/globals';
import { escapeLogValue, formatAccessLog, formatLogTime } from '../../sink/access-log.js';
import { createBasicAuthCheck } from '../../sink/auth.js';
import { parseDumpQuery } from '../../sink/dump-query.js';
import { createLineWriter } from '../../sink/line-writer.js';
import { formatUrl } from '../../sink/http/listen.js';
import { exposureWarning } from '../../sink/start.js';
import { webhookMeta } from '../../sink/webhook-meta.js';
import { sampleFulfilledOrderEvent } from '../../shared/events.js';

describe('line writer', () => {
  it('writes the lines of one turn of the event loop in one write, in order, each ending in a newline', async () => {
    const writes: string[] = [];
    const log = createLineWriter({ write: (chunk: string) => writes.push(chunk) });
    log('first');
    log('');
    log('third');
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['first\n\nthird\n']);
    log('fourth');
    log.flush();
    expect(writes).toEqual(['first\n\nthird\n', 'fourth\n']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(2);
  });
});

describe('access log line', () => {
  it("is nginx's combined format", () => {
    const line = formatAccessLog({
      remoteAddr: '::ffff:127.0.0.1',
      user: 'user',
      time: Date.UTC(2026, 10, 30, 7, 1, 43, 512),
      request: 'GET /ping HTTP/1.1',
      status: 200,
      bodyBytes: 4,
      referer: undefined,
      userAgent: 'curl/8.5.0',
    });
    expect(line).toBe('127.0.0.1 - user [30/Nov/2026:07:01:43 +0000] "GET /ping HTTP/1.1" 200 4 "-" "curl/8.5.0"');
  });

  it('pads days and times and names every month', () => {
    expect(formatLogTime(Date.UTC(2027, 0, 5, 3, 4, 5))).toBe('05/Jan/2027:03:04:05 +0000');
    expect(formatLogTime(Date.UTC(2027, 11, 31, 23, 59, 59, 999))).toBe('31/Dec/2027:23:59:59 +0000');
  });

  it('escapes quotes, backslashes, control and non-ASCII bytes so a client cannot forge a line', () => {
    expect(escapeLogValue('a"b\\c\nd\x7f')).toBe('a\\x22b\\x5Cc\\x0Ad\\x7F');
    expect(escapeLogValue('\xe9')).toBe('\\xE9');
    expect(escapeLogValue('€')).toBe('\\xE2\\x82\\xAC');
    const line = formatAccessLog({
      remoteAddr: '127.0.0.1',
      user: null,
      time: 0,
      request: null,
      status: 400,
      bodyBytes: 0,
      referer: '',
      userAgent: 'x"\n127.0.0.1 - - [forged]',
    });
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toBe('127.0.0.1 - - [01/Jan/1970:00:00:00 +0000] "-" 400 0 "-" "x\\x22\\x0A127.0.0.1 - - [forged]"');
  });
});

describe('basic auth check', () => {
  const check = createBasicAuthCheck({ user: 'relay', pass: 'correct horse:battery' });
  const header = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

  it('accepts the configured credentials, the password may contain a colon', () => {
    expect(check(header('relay:correct horse:battery'))).toEqual({ ok: true, user: 'relay' });
    expect(check(`basic   ${Buffer.from('relay:correct horse:battery').toString('base64')}`)).toEqual({
      ok: true,
      user: 'relay',
    });
  });

  it('refuses anything else', () => {
    for (const h of [
      undefined,
      '',
      'Basic',
      'Bearer x',
      header('relay:wrong'),
      header('other:correct horse:battery'),
      header('relay'),
      header('relay:correct horse:battery '),
      'Basic !!!',
    ]) {
      expect(check(h)).toEqual({ ok: false });
    }
  });

  it('lets everything through when no credentials are configured', () => {
    expect(createBasicAuthCheck(null)(undefined)).toEqual({ ok: true, user: null });
  });
});

describe('dump query', () => {
  const q = (s: string) => parseDumpQuery(new URLSearchParams(s));

  it('reads every filter', () => {
    expect(
      q('event=job.status&status=failed&liveMode=false&since=3&before=9&limit=2&order=desc&q=Berlin&envelope=1'),
    ).toEqual({
      ok: true,
      value: {
        filter: {
          event: 'job.status',
          status: 'failed',
          liveMode: false,
          since: 3,
          before: 9,
          limit: 2,
          order: 'desc',
          q: 'Berlin',
        },
        envelope: true,
      },
    });
    expect(q('')).toEqual({ ok: true, value: { filter: {}, envelope: false } });
    expect(q('liveMode=TRUE&unknown=1')).toEqual({ ok: true, value: { filter: { liveMode: true }, envelope: false } });
  });

  it('names each bad value', () => {
    const r = q('since=-1&limit=x&liveMode=maybe&order=up');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain('since must be a whole number');
      expect(r.message).toContain('limit must be a whole number');
      expect(r.message).toContain('liveMode must be true or false');
      expect(r.message).toContain('order must be asc or desc');
    }
  });
});

describe('webhook metadata', () => {
  it('takes event, liveMode, messageId and body.status from a UP42 delivery', () => {
    expect(webhookMeta(sampleFulfilledOrderEvent)).toEqual({
      messageId: sampleFulfilledOrderEvent.messageId,
      event: 'order.status',
      status: 'FULFILLED',
      liveMode: true,
    });
  });

  it('gives nulls for anything else, and never throws', () => {
    const none = { messageId: null, event: null, status: null, liveMode: null };
    for (const v of [
      null,
      1,
      'x',
      [1],
      {},
      { messageId: 5, event: [], liveMode: 'true', body: 'x' },
      { messageId: '' },
    ]) {
      expect(webhookMeta(v)).toEqual(none);
    }
    expect(webhookMeta({ status: 'DONE' }).status).toBe('DONE');
  });
});

describe('startup helpers', () => {
  it('warns when the sink is reachable from other machines without credentials', () => {
    expect(exposureWarning({ host: '0.0.0.0', auth: null })).toMatch(/WARNING: .*0\.0\.0\.0.*no basic auth/);
    expect(exposureWarning({ host: '192.168.1.5', auth: null })).not.toBeNull();
    expect(exposureWarning({ host: '0.0.0.0', auth: { user: 'u', pass: 'p' } })).toBeNull();
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1'])
      expect(exposureWarning({ host, auth: null })).toBeNull();
  });

  it('brackets IPv6 hosts in URLs', () => {
    expect(formatUrl('::1', 9888)).toBe('http://[::1]:9888');
    expect(formatUrl('127.0.0.1', 9888)).toBe('http://127.0.0.1:9888');
  });
});
