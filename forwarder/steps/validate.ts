import type { StepContext, StepsOf } from '../pipedream.js';
import { rawBodyOf } from '../raw-body.js';
import { validateStep } from '../validate-step.js';

/**
 * Pipedream code step "validate": the UP42 signature, then the status filter, with its settings from the
 * workflow's environment variables (see pipedream.yaml), read from `process.env` at each run. A signed content
 * digest is checked against the bytes in `steps.trigger.raw_event`; only without them against the parsed body
 * serialised again (see validate.ts).
 */
export default defineComponent({
  props: {},
  async run({ steps, $ }: { steps: StepsOf; $: StepContext }) {
    const { event, raw_event } = steps.trigger;
    const delivery = { headers: event.headers, body: event.body, bodyRaw: rawBodyOf(event, raw_event)?.text };
    return validateStep(delivery, $, process.env, Date.now());
  },
});
