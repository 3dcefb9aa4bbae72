import { AsyncLocalStorage } from 'node:async_hooks';
import type { Env } from '../../shared/env.js';

/**
 * Pipedream steps read their settings from `process.env` inside `run`. The runner gives each run the
 * environment it was started with, so several runners (the tests start many) can share one process:
 * `process.env` becomes a view that reads the current run's environment, found through AsyncLocalStorage,
 * and the process's own environment outside a run. Writes go to the process's own environment.
 */
const storage = new AsyncLocalStorage<Env>();
let processEnv: NodeJS.ProcessEnv | null = null;
let view: NodeJS.ProcessEnv | null = null;

function install(): void {
  if (view) return;
  const own = process.env;
  const current = (): Record<string, string | undefined> => (storage.getStore() ?? own) as Record<string, string | undefined>;
  processEnv = own;
  view = new Proxy(own, {
    get: (_target, key) => (typeof key === 'string' ? current()[key] : undefined),
    has: (_target, key) => typeof key === 'string' && current()[key] !== undefined,
    ownKeys: () => Object.keys(current()),
    getOwnPropertyDescriptor: (_target, key) => {
      const value = typeof key === 'string' ? current()[key] : undefined;
      return value === undefined ? undefined : { value, writable: true, enumerable: true, configurable: true };
    },
  });
  process.env = view;
}

/** Runs `fn` with `process.env` reading `env`. */
export function withProcessEnv<T>(env: Env, fn: () => Promise<T>): Promise<T> {
  install();
  // The process's own environment, even when given as the view itself.
  const store = env === view ? processEnv! : env;
  return storage.run(store, fn);
}
