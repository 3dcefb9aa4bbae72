import { describe, expect, it } from '@jest/globals';
import {
  EVENT_TYPES,
  makeEvent,
  sampleFailedJobEvent,
  sampleFulfilledOrderEvent,
  sampleTestJobEvent,
  type JobStatusEvent,
  type KnownUp42Event,
  type OrderStatusEvent,
} from '../../shared/events.js';
import { classify, DEFAULT_NOTIFY_STATUSES } from '../../shared/status.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isIsoTime = (s: unknown) =>
  typeof s === 'string' && !Number.isNaN(Date.parse(s)) && new Date(s).toISOString() === s;
const defaults = { statuses: new Set(DEFAULT_NOTIFY_STATUSES), testMode: false };
const testMode = { ...defaults, testMode: true };

/** Checks at run time what the types promise, so a sample edited into another shape fails here. */
function expectEnvelope(event: KnownUp42Event) {
  expect(EVENT_TYPES).toContain(event.event);
  expect(typeof event.liveMode).toBe('boolean');
  expect(event.messageId).toMatch(UUID);
  expect(isIsoTime(event.timestamp)).toBe(true);
  expect(typeof event.body.status).toBe('string');
  // Pure data: survives a trip through JSON unchanged, as it does on the wire.
  expect(JSON.parse(JSON.stringify(event))).toEqual(event);
}

describe('sample events', () => {
  it('the test event is a job.status with liveMode false', () => {
    const sample: JobStatusEvent = sampleTestJobEvent;
    expectEnvelope(sample);
    expect(sample).toMatchObject({ event: 'job.status', liveMode: false });
    expect(sample.body.jobId).toMatch(UUID);
  });

  it('the failed job is live, FAILED, with its tasks and the task that failed', () => {
    const sample: JobStatusEvent = sampleFailedJobEvent;
    expectEnvelope(sample);
    expect(sample).toMatchObject({ event: 'job.status', liveMode: true, body: { status: 'FAILED' } });
    expect(sample.body.tasks?.length).toBeGreaterThan(0);
    expect(sample.body.tasks?.map((t) => t.status)).toContain('FAILED');
    for (const task of sample.body.tasks ?? []) {
      expect(task.id).toMatch(UUID);
      expect(isIsoTime(task.startedAt)).toBe(true);
    }
  });

  it('the fulfilled order is a live order.status, FULFILLED', () => {
    const sample: OrderStatusEvent = sampleFulfilledOrderEvent;
    expectEnvelope(sample);
    expect(sample).toMatchObject({ event: 'order.status', liveMode: true, body: { status: 'FULFILLED' } });
    expect(sample.body.orderId).toMatch(UUID);
  });

  it('have distinct message ids', () => {
    const ids = [sampleTestJobEvent, sampleFailedJobEvent, sampleFulfilledOrderEvent].map((e) => e.messageId);
    expect(new Set(ids).size).toBe(3);
  });
});

describe('sample events through the status filter', () => {
  it('the test event is ignored unless in test mode', () => {
    expect(classify(sampleTestJobEvent, defaults)).toMatchObject({
      action: 'ignore',
      reason: expect.stringMatching(/test event/),
    });
    expect(classify(sampleTestJobEvent, testMode)).toEqual({
      action: 'notify',
      event: 'job.status',
      status: 'SUCCEEDED',
      liveMode: false,
      messageId: sampleTestJobEvent.messageId,
    });
  });

  it('the failed job notifies', () => {
    expect(classify(sampleFailedJobEvent, defaults)).toEqual({
      action: 'notify',
      event: 'job.status',
      status: 'FAILED',
      liveMode: true,
      messageId: sampleFailedJobEvent.messageId,
    });
  });

  it('the fulfilled order notifies', () => {
    expect(classify(sampleFulfilledOrderEvent, defaults)).toMatchObject({
      action: 'notify',
      event: 'order.status',
      status: 'FULFILLED',
    });
  });

  it('samples parsed from their JSON text classify the same way', () => {
    for (const sample of [sampleTestJobEvent, sampleFailedJobEvent, sampleFulfilledOrderEvent]) {
      expect(classify(JSON.parse(JSON.stringify(sample)), defaults)).toEqual(classify(sample, defaults));
    }
  });
});

describe('makeEvent', () => {
  const ids = { messageId: '9e8d7c6b-5a49-4382-a716-e5d4c3b2a190', timestamp: '2026-12-01T00:00:00.000Z' };

  it('builds a live order event with the given status, id and time', () => {
    const event = makeEvent({ event: 'order.status', status: 'FAILED_PERMANENTLY', liveMode: true, ...ids });
    expect(event).toEqual({
      ...sampleFulfilledOrderEvent,
      ...ids,
      body: { ...sampleFulfilledOrderEvent.body, status: 'FAILED_PERMANENTLY' },
    });
    expect(classify(event, defaults)).toMatchObject({ action: 'notify', status: 'FAILED_PERMANENTLY' });
  });

  it('builds a live job from the failed job sample, a test job from the test sample', () => {
    const liveJob = makeEvent({ event: 'job.status', status: 'CANCELLED', liveMode: true, ...ids });
    expect(liveJob).toEqual({
      ...sampleFailedJobEvent,
      ...ids,
      body: { ...sampleFailedJobEvent.body, status: 'CANCELLED' },
    });
    const testJob = makeEvent({ event: 'job.status', status: 'RUNNING', liveMode: false, ...ids });
    expect(testJob).toEqual({ ...sampleTestJobEvent, ...ids, body: { ...sampleTestJobEvent.body, status: 'RUNNING' } });
    expect(classify(testJob, defaults)).toMatchObject({ action: 'ignore' });
    expect(classify(testJob, testMode)).toMatchObject({ action: 'notify', status: 'RUNNING' });
  });

  it('leaves the samples untouched', () => {
    const before = JSON.stringify([sampleTestJobEvent, sampleFailedJobEvent, sampleFulfilledOrderEvent]);
    const event = makeEvent({ event: 'job.status', status: 'ERROR', liveMode: true, ...ids });
    event.body.status = 'CHANGED';
    if ('tasks' in event.body) {
      event.body.tasks![0]!.status = 'CHANGED';
      event.body.tasks!.push({ id: 'x', name: 'x', status: 'x' });
    }
    expect(JSON.stringify([sampleTestJobEvent, sampleFailedJobEvent, sampleFulfilledOrderEvent])).toBe(before);
  });
});
