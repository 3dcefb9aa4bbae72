/**
 * `defineComponent` is a global of Pipedream's runtime (the tests' stand-in for Pipedream provides its own):
 * no package exports it, so the step sources declare it here and the built files never import it.
 */
declare global {
  function defineComponent<T extends object>(component: T): T;
}

export {};
