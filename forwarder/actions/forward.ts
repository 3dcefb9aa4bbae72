import { forwardStep } from '../forward.js';
import type { StepContext } from '../pipedream.js';
import { axiosTransport } from '../sink-transport.js';
import { envFromProps, envProps } from './env-props.js';
import { FORWARD_ENV } from './step-env.js';

// The forward step as an action for `pd publish`: the same logic, its inputs taken as props.
export default defineComponent({
  key: 'up42-webhook-relay-forward',
  name: 'Forward UP42 webhook to the sink',
  description: 'Pings the local sink through its tunnel, then POSTs the webhook to it, retrying transient failures.',
  version: '0.1.0',
  type: 'action',
  props: {
    body: { type: 'object', label: 'Body', description: 'Map to {{steps.trigger.event.body}}.' },
    ...envProps(FORWARD_ENV, ['SINK_URL']),
  },
  async run(this: Record<string, unknown>, { $ }: { $: StepContext }) {
    return forwardStep(this.body, $, envFromProps(this, FORWARD_ENV), axiosTransport($));
  },
});
