import { build } from 'esbuild';
import { join } from 'node:path';
import { buildSink } from '../scripts/build-sink.js';
import { NODE_BUNDLE } from '../scripts/node-bundle.js';
import { REPO_ROOT } from './processes.js';

/**
 * The servers under test as `npm start` runs the sink: one bundled JavaScript file under plain node (the
 * prestart build, scripts/build-sink.ts). The baseline is bundled and run the same way, so the two differ
 * only in what the sink does per request. Both go to dist/bench/, apart from a developer's dist/sink/.
 */
export const BUILT_SINK = ['dist/bench/sink/main.mjs'];
export const BUILT_BASELINE = ['dist/bench/baseline.mjs'];

export async function buildServers(): Promise<void> {
  await buildSink(join(REPO_ROOT, 'dist', 'bench', 'sink'));
  await build({
    entryPoints: [join(REPO_ROOT, 'bench', 'baseline-server.ts')],
    outfile: join(REPO_ROOT, BUILT_BASELINE[0]!),
    ...NODE_BUNDLE,
  });
}
