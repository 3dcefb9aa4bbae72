import { describe, expect, it } from '@jest/globals';
import { parseForwardConfig } from '../../shared/config.js';
import {
  DEFAULT_PARK_DELAYS_SECONDS,
  describeSeconds,
  judgeReply,
  planOutboxRetry,
  planPark,
} from '../../shared/delivery-decision.js';
import { envDefault } from '../../shared/env.js';

describe('judgeReply', () => {
  it.each([
    [{ kind: 'network', timedOut: true } as const, 'away', 'timeout'],
    [{ kind: 'network', timedOut: false } as const, 'away', 'network error'],
    [{ kind: 'response', status: 404, ngrokErrorCode: 'ERR_NGROK_3200' } as const, 'away', 'ERR_NGROK_3200'],
    [{ kind: 'response', status: 502, ngrokErrorCode: 'ERR_NGROK_8012' } as const, 'away', 'ERR_NGROK_8012'],
    [{ kind: 'response', status: 502, ngrokErrorCode: 'ERR_NGROK_3210' } as const, 'away', 'ERR_NGROK_3210'],
    [{ kind: 'response', status: 502, ngrokErrorCode: 'ERR_NGROK_724' } as const, 'away', 'ERR_NGROK_724'],
    // An invalid response from the upstream: the tunnel points at something that is not the sink.
    [{ kind: 'response', status: 502, ngrokErrorCode: 'ERR_NGROK_3004' } as const, 'final', 'ERR_NGROK_3004'],
    [{ kind: 'response', status: 429 } as const, 'away', 'HTTP 429'],
    [{ kind: 'response', status: 503 } as const, 'away', 'HTTP 503'],
    [{ kind: 'response', status: 401 } as const, 'final', 'HTTP 401'],
    [{ kind: 'response', status: 401, ngrokErrorCode: 'ERR_NGROK_302' } as const, 'final', 'HTTP 401'],
    [{ kind: 'response', status: 413 } as const, 'final', 'HTTP 413'],
    [{ kind: 'response', status: 302 } as const, 'final', 'HTTP 302'],
  ])('%j is %s (%s)', (reply, verdict, cause) => {
    expect(judgeReply(reply)).toEqual({ verdict, cause });
  });

  it('lets the caller read a 2xx answer', () => {
    expect(judgeReply({ kind: 'response', status: 200 })).toEqual({ verdict: 'answered' });
  });
});

describe('planPark', () => {
  const delays = [1, 1, 2];
  it('parks for the delay of each run in turn, counting runs from 1', () => {
    expect(planPark(1, delays)).toEqual({ action: 'park', delaySeconds: 1, park: 1, of: 3 });
    expect(planPark(3, delays)).toEqual({ action: 'park', delaySeconds: 2, park: 3, of: 3 });
  });
  it('gives up after the last delay, saying how long it tried', () => {
    expect(planPark(4, delays)).toEqual({ action: 'give-up', triedSeconds: 4, parks: 3 });
  });
  it('has a default schedule of 10 reruns over about 12.9 hours, the same as the variable default', () => {
    const total = DEFAULT_PARK_DELAYS_SECONDS.reduce((a, b) => a + b, 0);
    expect(DEFAULT_PARK_DELAYS_SECONDS).toHaveLength(10);
    expect(total).toBe(46_260); // 12 h 51 min
    expect(envDefault('FORWARD_PARK_DELAYS')).toBe(DEFAULT_PARK_DELAYS_SECONDS.join(','));
  });
});

describe('planOutboxRetry', () => {
  const hour = 3600_000;
  it('follows the schedule, then repeats its last delay', () => {
    expect(planOutboxRetry(1, [1, 1, 2], 0, 0, 3600)).toEqual({ action: 'retry', delaySeconds: 1, nextTryAtMs: 1000 });
    expect(planOutboxRetry(9, [1, 1, 2], 0, 5000, 3600)).toEqual({
      action: 'retry',
      delaySeconds: 2,
      nextTryAtMs: 7000,
    });
  });
  it('gives up once the next try would fall past the maximum', () => {
    expect(planOutboxRetry(20, [3600], 0, 71 * hour + 1, 72 * 3600)).toEqual({
      action: 'give-up',
      triedForMs: 71 * hour + 1,
    });
  });
});

describe('FORWARD_PARK_DELAYS', () => {
  const base = { SINK_URL: 'https://sink.example' };
  it('parses seconds, comma-separated, spaces allowed', () => {
    const parsed = parseForwardConfig({ ...base, FORWARD_PARK_DELAYS: '1, 1,2' });
    expect(parsed.ok && parsed.value.parkDelaysSeconds).toEqual([1, 1, 2]);
  });
  it.each(['', '0', '1,,2', '1.5', 'soon', '31536001'])('refuses %j', (raw) => {
    const parsed = parseForwardConfig({ ...base, FORWARD_PARK_DELAYS: raw === '' ? ' , ' : raw });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain('FORWARD_PARK_DELAYS');
  });
});

describe('describeSeconds', () => {
  it.each([
    [45, '45 s'],
    [900, '15 min'],
    [90, '1 min 30 s'],
    [7200, '2 h'],
    [5400, '1 h 30 min'],
  ])('%d s reads %s', (seconds, text) => expect(describeSeconds(seconds)).toBe(text));
});
