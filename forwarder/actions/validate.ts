import type { HeaderBag } from '../../shared/signature.js';
import type { StepContext } from '../pipedream.js';
import { validateStep } from '../validate.js';
import { envFromProps, envProps } from './env-props.js';
import { VALIDATE_ENV } from './step-env.js';

// The validate step as an action for `pd publish`: the same logic, its inputs taken as props.
export default defineComponent({
  key: 'up42-webhook-relay-validate',
  name: 'Validate UP42 webhook',
  description: "Checks an UP42 webhook's HMAC signature, then ends the workflow unless its status is one to notify about.",
  version: '0.1.0',
  type: 'action',
  props: {
    headers: { type: 'object', label: 'Headers', description: 'Map to {{steps.trigger.event.headers}}.' },
    body: { type: 'object', label: 'Body', description: 'Map to {{steps.trigger.event.body}}.' },
    bodyRaw: {
      type: 'string',
      label: 'Raw body',
      description: 'The body exactly as received, when available; a signed content digest is then checked too.',
      optional: true,
    },
    ...envProps(VALIDATE_ENV, ['UP42_WEBHOOK_SECRET']),
  },
  async run(this: Record<string, unknown>, { $ }: { $: StepContext }) {
    const delivery = {
      headers: (this.headers ?? {}) as HeaderBag,
      body: this.body,
      ...(typeof this.bodyRaw === 'string' ? { bodyRaw: this.bodyRaw } : {}),
    };
    return validateStep(delivery, $, envFromProps(this, VALIDATE_ENV), Date.now());
  },
});
