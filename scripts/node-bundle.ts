import type { BuildOptions } from 'esbuild';

/**
 * How `npm start` (and the benchmark) bundle what they run under plain node: one ES module for Node 20,
 * packages left as imports and resolved from node_modules (tsx's loader stays out of the running process).
 */
export const NODE_BUNDLE = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
} as const satisfies BuildOptions;
