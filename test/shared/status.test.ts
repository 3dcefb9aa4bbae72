import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { classify, DEFAULT_NOTIFY_STATUSES, normalizeStatus, parseStatusList } from '../../shared/status.js';

const DEFAULTS = new Set(DEFAULT_NOTIFY_STATUSES);
const live = (status: unknown, extra: Record<string, unknown> = {}) => ({
  event: 'job.status',
  liveMode: true,
  messageId: 'm-1',
  timestamp: '2026-11-30T07:00:00.000Z',
  body: { jobId: 'j-1', status },
  ...extra,
});

describe('the default notify list', () => {
  it('holds the job and order statuses the issue names, in canonical form', () => {
    expect([...DEFAULT_NOTIFY_STATUSES].sort()).toEqual([
      'CANCELLED',
      'ERROR',
      'FAILED',
      'FAILED_PERMANENTLY',
      'FULFILLED',
      'SUCCEEDED',
    ]);
  });
});

describe('normalizeStatus', () => {
  it.each([
    ['FAILED_PERMANENTLY', 'FAILED_PERMANENTLY'],
    ['FAILED PERMANENTLY', 'FAILED_PERMANENTLY'],
    ['failed permanently', 'FAILED_PERMANENTLY'],
    ['Failed_Permanently', 'FAILED_PERMANENTLY'],
    ['  failed   permanently\t', 'FAILED_PERMANENTLY'],
    ['failed__permanently', 'FAILED_PERMANENTLY'],
    ['failed _ permanently', 'FAILED_PERMANENTLY'],
    ['succeeded', 'SUCCEEDED'],
    ['', ''],
  ])('%j -> %j', (raw, expected) => {
    expect(normalizeStatus(raw)).toBe(expected);
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string(), (s) => expect(normalizeStatus(normalizeStatus(s))).toBe(normalizeStatus(s))),
      { numRuns: 300 },
    );
  });
});

describe('parseStatusList', () => {
  it('splits on commas and normalises each entry', () => {
    const parsed = parseStatusList(' error, Failed Permanently ,fulfilled,,FAILED_PERMANENTLY ');
    expect(parsed.ok && [...parsed.value].sort()).toEqual(['ERROR', 'FAILED_PERMANENTLY', 'FULFILLED']);
  });

  it('reads the default list from its environment form', () => {
    const parsed = parseStatusList('ERROR,FAILED,CANCELLED,SUCCEEDED,FAILED_PERMANENTLY,FULFILLED');
    expect(parsed.ok && [...parsed.value].sort()).toEqual([...DEFAULT_NOTIFY_STATUSES].sort());
  });

  it.each(['', ' ', ',', ' , ,\t'])('rejects %j as an empty list', (csv) => {
    expect(parseStatusList(csv)).toMatchObject({ ok: false, reason: 'empty-status-list' });
  });
});

describe('classify', () => {
  const opts = { statuses: DEFAULTS, testMode: false };

  it.each(DEFAULT_NOTIFY_STATUSES)('notifies a live %s', (status) => {
    expect(classify(live(status), opts)).toEqual({
      action: 'notify',
      event: 'job.status',
      status,
      liveMode: true,
      messageId: 'm-1',
    });
  });

  it('treats the order spelling with a space, an underscore or lower case as one status', () => {
    for (const spelling of ['FAILED PERMANENTLY', 'FAILED_PERMANENTLY', 'failed permanently', 'Failed_Permanently']) {
      expect(classify(live(spelling, { event: 'order.status' }), opts)).toMatchObject({
        action: 'notify',
        event: 'order.status',
        status: 'FAILED_PERMANENTLY',
      });
    }
  });

  it('ignores a status outside the list, saying which', () => {
    const result = classify(live('RUNNING'), opts);
    expect(result).toMatchObject({ action: 'ignore', status: 'RUNNING', event: 'job.status', messageId: 'm-1' });
    if (result.action === 'ignore') expect(result.reason).toMatch(/RUNNING is not in the notify list/);
  });

  it('uses a list from configuration in place of the default', () => {
    const custom = parseStatusList('running, failed permanently');
    if (!custom.ok) throw new Error(custom.message);
    const withCustom = { statuses: custom.value, testMode: false };
    expect(classify(live('RUNNING'), withCustom)).toMatchObject({ action: 'notify', status: 'RUNNING' });
    expect(classify(live('FAILED_PERMANENTLY'), withCustom)).toMatchObject({ action: 'notify' });
    expect(classify(live('FAILED'), withCustom)).toMatchObject({
      action: 'ignore',
      reason: expect.stringMatching(/not in the notify list/),
    });
  });

  it('ignores test events (liveMode not true) unless in test mode', () => {
    for (const liveMode of [false, undefined, 'true', 1, null]) {
      const result = classify(live('FAILED', { liveMode }), opts);
      expect(result).toMatchObject({ action: 'ignore', status: 'FAILED', reason: expect.stringMatching(/test event/) });
    }
    expect(classify(live('FAILED', { liveMode: false }), { ...opts, testMode: true })).toMatchObject({
      action: 'notify',
      status: 'FAILED',
      liveMode: false,
    });
  });

  it('in test mode notifies every status, since test events carry whatever status they carry', () => {
    expect(classify(live('RUNNING'), { ...opts, testMode: true })).toMatchObject({
      action: 'notify',
      status: 'RUNNING',
      liveMode: true,
    });
    expect(classify(live('RUNNING', { event: undefined }), { ...opts, testMode: true })).toMatchObject({
      action: 'notify',
      event: 'unknown',
    });
  });

  it('in test mode still ignores a payload without a status', () => {
    expect(classify(live(undefined), { ...opts, testMode: true })).toMatchObject({
      action: 'ignore',
      reason: 'the payload has no body.status',
    });
  });

  describe('payloads without body.status are ignored with a reason', () => {
    const cases: [string, unknown][] = [
      ['no body', { event: 'job.status', liveMode: true }],
      ['body null', { event: 'job.status', liveMode: true, body: null }],
      ['body a string', { event: 'job.status', liveMode: true, body: 'FAILED' }],
      ['body an array', { event: 'job.status', liveMode: true, body: [{ status: 'FAILED' }] }],
      ['body without status', live(undefined)],
      ['status null', live(null)],
      ['status a number', live(500)],
      ['status an object', live({ value: 'FAILED' })],
      ['status an array', live(['FAILED'])],
      ['status empty', live('')],
      ['status blank', live('  \t')],
      ['status at the top level only', { event: 'job.status', liveMode: true, status: 'FAILED' }],
      ['status on the prototype name only', JSON.parse('{"liveMode":true,"body":{"__proto__":{"status":"FAILED"}}}')],
    ];
    it.each(cases)('%s', (_name, payload) => {
      expect(classify(payload, opts)).toMatchObject({ action: 'ignore', reason: 'the payload has no body.status' });
    });
  });

  describe('payloads that are not JSON objects are ignored with a reason', () => {
    const cases: [string, unknown][] = [
      ['null', null],
      ['undefined', undefined],
      ['true', true],
      ['false', false],
      ['zero', 0],
      ['a number', 3.5],
      ['a string', 'FAILED'],
      ['an empty string', ''],
      ['a JSON text not yet parsed', JSON.stringify(live('FAILED'))],
      ['an empty array', []],
      ['an array of events', [live('FAILED')]],
    ];
    it.each(cases)('%s', (_name, payload) => {
      expect(classify(payload, opts)).toEqual({ action: 'ignore', reason: 'the payload is not a JSON object' });
    });
  });

  it('never throws, whatever the payload, and always gives a reason when it ignores', () => {
    const anything = fc.anything({
      withNullPrototype: true,
      withBigInt: true,
      withMap: true,
      withSet: true,
      withDate: true,
      withTypedArray: true,
      withSparseArray: true,
      withBoxedValues: true,
    });
    const nearMiss = fc.record(
      {
        event: fc.anything(),
        liveMode: fc.anything(),
        messageId: fc.anything(),
        body: fc.oneof(fc.anything(), fc.record({ status: fc.anything() })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(anything, nearMiss), fc.boolean(), (payload, testMode) => {
        const result = classify(payload, { statuses: DEFAULTS, testMode });
        if (result.action === 'ignore') expect(result.reason.length).toBeGreaterThan(0);
        else expect(result.action).toBe('notify');
      }),
      { numRuns: 500 },
    );
  });

  it('notifies a live event exactly when its normalised status is in the list', () => {
    const status = fc.oneof(
      fc.constantFrom(...DEFAULT_NOTIFY_STATUSES, 'failed permanently', 'RUNNING', 'PENDING'),
      fc.string({ minLength: 1 }),
    );
    fc.assert(
      fc.property(status, (s) => {
        const result = classify(live(s), opts);
        const expected = s.trim() !== '' && DEFAULTS.has(normalizeStatus(s)) ? 'notify' : 'ignore';
        expect(result.action).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});
