import { installDefineComponent } from './runtime.js';

// Imported by the runner's bundle before the step modules: they call Pipedream's global `defineComponent` as
// they evaluate, so it must exist first.
installDefineComponent();
