import type { StepContext, StepsOf } from '../pipedream.js';
import { validateStep } from '../validate.js';

// Pipedream code step "validate": the UP42 signature, then the status filter. Reads its settings from the
// workflow's environment variables (see pipedream.yaml).
export default defineComponent({
  props: {},
  async run({ steps, $ }: { steps: StepsOf; $: StepContext }) {
    const event = steps.trigger.event;
    // Pipedream's HTTP trigger gives no raw body by default; the local runner passes `bodyRaw`. Without it,
    // a signed content digest is checked against the body as it will be forwarded (see validate.ts).
    const delivery = { headers: event.headers, body: event.body, ...(typeof event.bodyRaw === 'string' ? { bodyRaw: event.bodyRaw } : {}) };
    return validateStep(delivery, $, process.env, Date.now());
  },
});
