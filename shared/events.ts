/** The shapes of UP42 webhook deliveries, and sample payloads that the tests and the test-event sender share. */

export const EVENT_TYPES = ['job.status', 'order.status'] as const;
export type Up42EventType = (typeof EVENT_TYPES)[number];

/*
 * The fields UP42 is known to send are the ones in the three real deliveries on record
 * (test/fixtures/up42-deliveries/: a test job.status, a live failed job, a live fulfilled order). Everything else
 * is optional: no UP42 document lists the bodies' fields, and a sender may add some.
 */

export interface JobTask {
  id: string;
  status: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  /** Seen in live deliveries. */
  logUrl?: string;
  /** Not seen in a real delivery. */
  name?: string;
  blockName?: string;
  blockVersion?: string;
}

export interface JobStatusBody {
  /** The job's id in a live delivery. */
  id?: string;
  /** The job's id in UP42's test event. */
  jobId?: string;
  status: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  tasks?: JobTask[];
  /** Not seen in a real delivery. */
  jobName?: string;
  workflowId?: string;
  projectId?: string;
}

export interface OrderStatusBody {
  orderId: string;
  status: string;
  /** Seen in a live delivery: `ARCHIVE`, … */
  orderType?: string;
  dataHostName?: string;
  statusIsFinal?: boolean;
  /** Not seen in a real delivery. */
  workspaceId?: string;
  dataProductId?: string;
  createdAt?: string;
  updatedAt?: string;
}

export interface Up42Webhook<E extends string = string, B = Record<string, unknown>> {
  event: E;
  liveMode: boolean;
  messageId: string;
  /** ISO 8601. */
  timestamp: string;
  body: B;
}

export type JobStatusEvent = Up42Webhook<'job.status', JobStatusBody>;
export type OrderStatusEvent = Up42Webhook<'order.status', OrderStatusBody>;
export type KnownUp42Event = JobStatusEvent | OrderStatusEvent;

/** UP42's test event, shaped as the real one on record: the job's id as `jobId`, no name. */
export const sampleTestJobEvent: JobStatusEvent = {
  event: 'job.status',
  liveMode: false,
  messageId: '0b5b1c2e-8d3f-4a0e-9a57-2c1d7e4f9a10',
  timestamp: '2026-11-30T07:00:00.37709Z',
  body: {
    jobId: 'FB0DA199-01DF-4635-910D-A823AE7DC200',
    status: 'PENDING',
    tasks: [
      { id: 'FB0DA199-01DF-4635-910D-A823AE7DC201', status: 'NOT_STARTED', startedAt: null, finishedAt: null },
      {
        id: 'FB0DA199-01DF-4635-910D-A823AE7DC202',
        status: 'PENDING',
        startedAt: '2026-11-30T06:58:10Z',
        finishedAt: null,
      },
    ],
    startedAt: '2026-11-30T06:58:00Z',
    finishedAt: null,
  },
};

const taskLog = (job: string, task: string) =>
  `https://api.up42.com/projects/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b/jobs/${job}/tasks/${task}/logs`;
const LIVE_JOB = 'f1a2b3c4-d5e6-4789-8abc-def012345678';

/** A live job that failed, shaped as the real one on record: the job's id as `id`, tasks with their log URLs. */
export const sampleFailedJobEvent: JobStatusEvent = {
  event: 'job.status',
  liveMode: true,
  messageId: '7d3c7a44-5f0e-4a6b-8a1e-5b2f0c9d1e23',
  timestamp: '2026-11-30T07:01:43Z',
  body: {
    id: LIVE_JOB,
    status: 'FAILED',
    startedAt: '2026-11-30T06:55:02Z',
    finishedAt: '2026-11-30T07:01:43Z',
    tasks: [
      {
        id: '11111111-2222-4333-8444-555555555555',
        status: 'SUCCEEDED',
        startedAt: '2026-11-30T06:55:05Z',
        finishedAt: '2026-11-30T06:59:12Z',
        logUrl: taskLog(LIVE_JOB, '11111111-2222-4333-8444-555555555555'),
      },
      {
        id: '66666666-7777-4888-9999-000000000000',
        status: 'FAILED',
        startedAt: '2026-11-30T06:59:13Z',
        finishedAt: '2026-11-30T07:01:42Z',
        logUrl: taskLog(LIVE_JOB, '66666666-7777-4888-9999-000000000000'),
      },
    ],
  },
};

/** A live archive order that was fulfilled, shaped as the real one on record. */
export const sampleFulfilledOrderEvent: OrderStatusEvent = {
  event: 'order.status',
  liveMode: true,
  messageId: 'c4e2a1f0-3b5d-4c7e-9f1a-2b3c4d5e6f70',
  timestamp: '2026-11-30T08:12:09.004158Z',
  body: {
    orderId: '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d',
    orderType: 'ARCHIVE',
    dataHostName: 'oneatlas',
    status: 'FULFILLED',
    statusIsFinal: true,
  },
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** A job's id: `body.jobId` (UP42's test event) or, in a `job.status` delivery, `body.id` (a live one). */
export function jobIdOf(payload: unknown): string | null {
  if (!isObject(payload) || !isObject(payload.body)) return null;
  return str(payload.body.jobId) ?? (payload.event === 'job.status' ? str(payload.body.id) : null);
}

export function orderIdOf(payload: unknown): string | null {
  return isObject(payload) && isObject(payload.body) ? str(payload.body.orderId) : null;
}

/**
 * What a delivery is about, as a person reads it: "Job f1a2… (NDVI over Berlin)", "Order 8a7b… (ARCHIVE)"; null
 * when it names neither. Used by the inbox's rows and notifications.
 */
export function subjectOf(payload: unknown): string | null {
  const body = isObject(payload) && isObject(payload.body) ? payload.body : {};
  const job = jobIdOf(payload);
  if (job !== null) return str(body.jobName) === null ? `Job ${job}` : `Job ${job} (${String(body.jobName)})`;
  const order = orderIdOf(payload);
  if (order !== null)
    return str(body.orderType) === null ? `Order ${order}` : `Order ${order} (${String(body.orderType)})`;
  return null;
}

/**
 * A fresh delivery of `event` with `status`, based on the matching sample. `messageId` and `timestamp`
 * are the caller's, so this stays a pure function.
 */
export function makeEvent(options: {
  event: Up42EventType;
  status: string;
  liveMode: boolean;
  messageId: string;
  timestamp: string;
}): KnownUp42Event {
  const { event, status, liveMode, messageId, timestamp } = options;
  // Deep copies: a caller editing the result (its tasks, say) must not change the shared samples.
  if (event === 'order.status') {
    const base = structuredClone(sampleFulfilledOrderEvent);
    return { ...base, liveMode, messageId, timestamp, body: { ...base.body, status } };
  }
  const base = structuredClone(liveMode ? sampleFailedJobEvent : sampleTestJobEvent);
  return { ...base, liveMode, messageId, timestamp, body: { ...base.body, status } };
}
