/** The shapes of UP42 webhook deliveries, and sample payloads that the tests and the test-event sender share. */

export const EVENT_TYPES = ['job.status', 'order.status'] as const;
export type Up42EventType = (typeof EVENT_TYPES)[number];

export interface JobTask {
  id: string;
  name: string;
  status: string;
  startedAt?: string;
  finishedAt?: string;
  blockName?: string;
  blockVersion?: string;
}

export interface JobStatusBody {
  jobId: string;
  status: string;
  jobName?: string;
  workflowId?: string;
  projectId?: string;
  startedAt?: string;
  finishedAt?: string;
  tasks?: JobTask[];
}

export interface OrderStatusBody {
  orderId: string;
  status: string;
  workspaceId?: string;
  orderType?: string;
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

export const sampleTestJobEvent: JobStatusEvent = {
  event: 'job.status',
  liveMode: false,
  messageId: '0b5b1c2e-8d3f-4a0e-9a57-2c1d7e4f9a10',
  timestamp: '2026-11-30T07:00:00.000Z',
  body: {
    jobId: '00000000-0000-0000-0000-000000000000',
    jobName: 'Test job',
    status: 'SUCCEEDED',
    workflowId: '00000000-0000-0000-0000-000000000001',
    projectId: '00000000-0000-0000-0000-000000000002',
    startedAt: '2026-11-30T06:58:00.000Z',
    finishedAt: '2026-11-30T07:00:00.000Z',
  },
};

export const sampleFailedJobEvent: JobStatusEvent = {
  event: 'job.status',
  liveMode: true,
  messageId: '7d3c7a44-5f0e-4a6b-8a1e-5b2f0c9d1e23',
  timestamp: '2026-11-30T07:01:43.512Z',
  body: {
    jobId: 'f1a2b3c4-d5e6-4789-8abc-def012345678',
    jobName: 'NDVI over Berlin',
    status: 'FAILED',
    workflowId: 'a9b8c7d6-e5f4-4321-9fed-cba987654321',
    projectId: '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b',
    startedAt: '2026-11-30T06:55:02.118Z',
    finishedAt: '2026-11-30T07:01:42.907Z',
    tasks: [
      {
        id: '11111111-2222-4333-8444-555555555555',
        name: 'oneatlas-pleiades-aoiclipped:1',
        status: 'SUCCEEDED',
        blockName: 'oneatlas-pleiades-aoiclipped',
        blockVersion: '2.3.0',
        startedAt: '2026-11-30T06:55:05.000Z',
        finishedAt: '2026-11-30T06:59:12.000Z',
      },
      {
        id: '66666666-7777-4888-9999-000000000000',
        name: 'ndvi:1',
        status: 'FAILED',
        blockName: 'ndvi',
        blockVersion: '2.1.1',
        startedAt: '2026-11-30T06:59:13.000Z',
        finishedAt: '2026-11-30T07:01:42.000Z',
      },
    ],
  },
};

export const sampleFulfilledOrderEvent: OrderStatusEvent = {
  event: 'order.status',
  liveMode: true,
  messageId: 'c4e2a1f0-3b5d-4c7e-9f1a-2b3c4d5e6f70',
  timestamp: '2026-11-30T08:12:09.004Z',
  body: {
    orderId: '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d',
    status: 'FULFILLED',
    workspaceId: '3c2d1e0f-9a8b-4c7d-8e6f-5a4b3c2d1e0f',
    orderType: 'ARCHIVE',
    dataProductId: '47dadb27-9532-4552-93a5-48f70a83eaef',
    createdAt: '2026-11-30T07:40:00.000Z',
    updatedAt: '2026-11-30T08:12:08.880Z',
  },
};

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
