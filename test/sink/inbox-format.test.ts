import { describe, expect, it } from '@jest/globals';
import { signedText, subjectOf } from '../../sink/inbox/format.js';

/* The inbox row's text, in Node: what a webhook is about, and what its verified signature covers. */

describe('subjectOf', () => {
  it('names the job, with its name when it has one', () => {
    const body = { event: 'job.status', body: { jobId: 'f1a2', jobName: 'NDVI over Berlin', status: 'FAILED' } };
    expect(subjectOf({ messageId: 'm-1', body })).toBe('Job f1a2 (NDVI over Berlin)');
  });

  it('names the order and its type', () => {
    const body = { event: 'order.status', body: { orderId: '8a7b', orderType: 'ARCHIVE', status: 'FULFILLED' } };
    expect(subjectOf({ messageId: 'm-2', body })).toBe('Order 8a7b (ARCHIVE)');
  });

  it('falls back on the message id, and on a dash without one', () => {
    expect(subjectOf({ messageId: 'm-3', body: { event: 'other' } })).toBe('Message m-3');
    expect(subjectOf({ body: 'not json' })).toBe('Message –');
  });
});

describe('signedText', () => {
  it('lists the covered headers', () => {
    expect(signedText({ signed: ['content-digest', 'webhook-id'] })).toBe(
      'signature covers content-digest, webhook-id',
    );
  });

  it('is null for an unverified or unsigned envelope', () => {
    expect(signedText({ signed: null })).toBeNull();
    expect(signedText({})).toBeNull();
    expect(signedText({ signed: [] })).toBeNull();
  });
});
