import { defineAction } from '@pipedream/types';
import type { HeaderBag } from '../../shared/signature.js';
import type { StepContext } from '../pipedream.js';
import { rawBodyOf } from '../raw-body.js';
import { validateStep } from '../validate-step.js';
import { envFromProps, envProps } from './env-props.js';
import { VALIDATE_ENV } from './step-env.js';

// The validate step as an action for `pd publish`: a plain component object (no global needed), the same
// logic, its inputs taken as props.
export default defineAction({
  key: 'up42-webhook-relay-validate',
  name: 'Validate UP42 webhook',
  description:
    "Checks an UP42 webhook's HMAC signature, then ends the workflow unless its status is one to notify about.",
  version: '0.2.0',
  type: 'action',
  props: {
    headers: { type: 'object', label: 'Headers', description: 'Map to {{steps.trigger.event.headers}}.' },
    body: { type: 'object', label: 'Body', description: 'Map to {{steps.trigger.event.body}}.' },
    rawBodyB64: {
      type: 'string',
      label: 'Raw body (base64)',
      description:
        'Map to {{steps.trigger.raw_event.body_b64}}: a signed content digest is then checked against the bytes sent.',
      optional: true,
    },
    ...envProps(VALIDATE_ENV, ['UP42_WEBHOOK_SECRET']),
  },
  async run(options) {
    const $ = options!.$ as unknown as StepContext;
    const headers = (this.headers ?? {}) as HeaderBag & Record<string, string>;
    const raw = rawBodyOf({ headers }, { body_b64: typeof this.rawBodyB64 === 'string' ? this.rawBodyB64 : undefined });
    const delivery = { headers, body: this.body, bodyRaw: raw?.text };
    return validateStep(delivery, $, envFromProps(this, VALIDATE_ENV), Date.now());
  },
});
