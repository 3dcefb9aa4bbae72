import { forwardStep } from '../forward-step.js';
import type { StepContext, StepsOf } from '../pipedream.js';
import { packSignedHeaders } from '../../shared/signed-headers.js';
import { rawBodyOf } from '../raw-body.js';
import { axiosTransport } from '../sink-transport.js';

/**
 * Pipedream code step "forward": ping the sink through its public URL, then POST it the bytes UP42 sent; while
 * the sink is away, the delivery is parked with `$.flow.rerun`. Runs only when "validate" let the event through.
 * Its settings are the workflow's environment variables, read from `process.env` at each run.
 */
export default defineComponent({
  props: {},
  async run({ steps, $ }: { steps: StepsOf; $: StepContext }) {
    const { event, raw_event } = steps.trigger;
    const raw = rawBodyOf(event, raw_event) ?? undefined;
    const signedHeaders = packSignedHeaders(event.headers);
    return forwardStep({ body: event.body, raw, signedHeaders }, $, process.env, axiosTransport($));
  },
});
