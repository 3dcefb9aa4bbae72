import type { StepContext, StepsOf } from '../pipedream.js';
import { validateStep } from '../validate.js';

// Pipedream code step "validate": the UP42 signature, then the status filter. Reads its settings from the
// workflow's environment variables (see pipedream.yaml).
export default defineComponent({
  props: {},
  async run({ steps, $ }: { steps: StepsOf; $: StepContext }) {
    const event = steps.trigger.event;
    // Pipedream's HTTP trigger gives no raw body by default, so only the MAC over the signed headers is
    // checked there; the local runner passes `bodyRaw`, and then a signed content digest is checked too.
    const delivery = { headers: event.headers, body: event.body, ...(typeof event.bodyRaw === 'string' ? { bodyRaw: event.bodyRaw } : {}) };
    return validateStep(delivery, $, process.env, Date.now());
  },
});
