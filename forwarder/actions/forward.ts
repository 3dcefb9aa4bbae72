import { defineAction } from '@pipedream/types';
import { forwardStep } from '../forward-step.js';
import type { StepContext } from '../pipedream.js';
import { packSignedHeaders } from '../../shared/signed-headers.js';
import { rawBodyOf } from '../raw-body.js';
import { axiosTransport } from '../sink-transport.js';
import { envFromProps, envProps } from './env-props.js';
import { FORWARD_ENV } from './step-env.js';

// The forward step as an action for `pd publish`: a plain component object (no global needed), the same logic,
// its inputs taken as props.
export default defineAction({
  key: 'up42-webhook-relay-forward',
  name: 'Forward UP42 webhook to the sink',
  description:
    'Pings the local sink through its tunnel, then POSTs it the webhook as received; parks it while the sink is away.',
  version: '0.2.0',
  type: 'action',
  props: {
    body: { type: 'object', label: 'Body', description: 'Map to {{steps.trigger.event.body}}.' },
    headers: {
      type: 'object',
      label: 'Headers',
      description: 'Map to {{steps.trigger.event.headers}}.',
      optional: true,
    },
    rawBodyB64: {
      type: 'string',
      label: 'Raw body (base64)',
      description: 'Map to {{steps.trigger.raw_event.body_b64}}: the sink then receives the bytes UP42 sent.',
      optional: true,
    },
    ...envProps(FORWARD_ENV, ['SINK_URL']),
  },
  async run(options) {
    const $ = options!.$ as unknown as StepContext;
    const headers = (this.headers ?? {}) as Record<string, string>;
    const raw = rawBodyOf({ headers }, { body_b64: typeof this.rawBodyB64 === 'string' ? this.rawBodyB64 : undefined });
    const env = envFromProps(this, FORWARD_ENV);
    const input = { body: this.body, raw: raw ?? undefined, signedHeaders: packSignedHeaders(headers) };
    return forwardStep(input, $, env, axiosTransport($));
  },
});
