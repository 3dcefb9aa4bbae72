import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EVENT_TYPES,
  jobIdOf,
  makeEvent,
  orderIdOf,
  subjectOf,
  sampleFailedJobEvent,
  sampleFulfilledOrderEvent,
  sampleTestJobEvent,
  type JobStatusEvent,
  type KnownUp42Event,
  type OrderStatusEvent,
} from '../../shared/events.js';
import { classify, DEFAULT_NOTIFY_STATUSES } from '../../shared/status.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// UP42 writes RFC 3339 UTC times with any number of fraction digits (`…:26.37709Z`) or none (`…:34Z`).
const isIsoTime = (s: unknown) =>
  typeof s === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(s) && !Number.isNaN(Date.parse(s));

/** The real deliveries on record (see test/fixtures/up42-deliveries/README.md). */
const real = (name: string) =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, '..', 'fixtures', 'up42-deliveries', `${name}.json`), 'utf8'),
  ) as KnownUp42Event;
const REAL_TEST_JOB = real('job-status-test');
const REAL_FAILED_JOB = real('job-status-live-failed');
const REAL_ORDER = real('order-status-live-fulfilled');

/** The field names of a delivery, nested ones as paths, arrays by their first element: its shape. */
function shape(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.length === 0 ? [path] : shape(value[0], `${path}[]`);
  if (typeof value !== 'object' || value === null) return [path];
  return Object.entries(value)
    .flatMap(([k, v]) => shape(v, path === '' ? k : `${path}.${k}`))
    .sort();
}
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
    expect(sample.body.jobId).toMatch(/^[0-9A-F-]{36}$/);
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

  it('each sample has the fields of the real delivery it stands for, no more, no fewer', () => {
    expect(shape(sampleTestJobEvent)).toEqual(shape(REAL_TEST_JOB));
    expect(shape(sampleFailedJobEvent)).toEqual(shape(REAL_FAILED_JOB));
    expect(shape(sampleFulfilledOrderEvent)).toEqual(shape(REAL_ORDER));
    for (const delivery of [REAL_TEST_JOB, REAL_FAILED_JOB, REAL_ORDER]) expectEnvelope(delivery);
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
      status: 'PENDING',
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
      event.body.tasks!.push({ id: 'x', status: 'x' });
    }
    expect(JSON.stringify([sampleTestJobEvent, sampleFailedJobEvent, sampleFulfilledOrderEvent])).toBe(before);
  });
});

describe('what a delivery is about: its job or its order', () => {
  it("takes a live job's id from body.id and the test event's from body.jobId, as UP42 sends them", () => {
    expect(jobIdOf(REAL_FAILED_JOB)).toBe('6dbe8956-b8c5-47b3-9f56-b1686628aa19');
    expect(jobIdOf(REAL_TEST_JOB)).toBe('FB0DA199-01DF-4635-910D-A823AE7DC200');
    expect(jobIdOf(REAL_ORDER)).toBeNull();
    expect(orderIdOf(REAL_ORDER)).toBe('86296865-9e91-4a16-9a3c-d4eaa584c03e');
    // body.id names a job only in a job.status delivery.
    expect(jobIdOf({ event: 'order.status', body: { id: 'x' } })).toBeNull();
    expect(jobIdOf({ event: 'job.status', body: { id: 'j', jobId: 'k' } })).toBe('k');
  });

  it('names the job (with its name when a sender adds one) or the order with its type', () => {
    expect(subjectOf(REAL_FAILED_JOB)).toBe('Job 6dbe8956-b8c5-47b3-9f56-b1686628aa19');
    expect(subjectOf(REAL_TEST_JOB)).toBe('Job FB0DA199-01DF-4635-910D-A823AE7DC200');
    expect(subjectOf(REAL_ORDER)).toBe('Order 86296865-9e91-4a16-9a3c-d4eaa584c03e (ARCHIVE)');
    expect(subjectOf({ event: 'job.status', body: { id: 'j1', jobName: 'NDVI' } })).toBe('Job j1 (NDVI)');
    expect(subjectOf({ event: 'order.status', body: { orderId: 'o1' } })).toBe('Order o1');
    for (const odd of [null, 'text', [], {}, { body: 'x' }, { body: { jobId: 7 } }]) expect(subjectOf(odd)).toBeNull();
  });
});
