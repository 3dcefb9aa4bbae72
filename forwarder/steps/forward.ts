import { forwardStep } from '../forward.js';
import type { StepContext, StepsOf } from '../pipedream.js';
import { axiosTransport } from '../sink-transport.js';

// Pipedream code step "forward": ping the sink through its public URL, then POST the webhook to it.
// Runs only when "validate" let the event through.
export default defineComponent({
  props: {},
  async run({ steps, $ }: { steps: StepsOf; $: StepContext }) {
    return forwardStep(steps.trigger.event.body, $, process.env, axiosTransport($));
  },
});
