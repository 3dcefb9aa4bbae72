import { build } from 'esbuild';
import { cp, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isEntryPoint } from './cli/entry-point.js';
import { NODE_BUNDLE } from './node-bundle.js';

/**
 * `npm start`'s build (its prestart): the sink as one JavaScript file, dist/sink/main.mjs, run with plain node.
 * Running the TypeScript through tsx instead costs some 30 MB of resident memory for the loader; the bundle
 * keeps the sink small. Packages stay imports, resolved from node_modules; the inbox page's files are copied
 * beside the bundle, where the sink looks for them (next to its own module).
 */
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SINK_DIST = join(REPO_ROOT, 'dist', 'sink');

export async function buildSink(outDir: string = SINK_DIST): Promise<string> {
  const outfile = join(outDir, 'main.mjs');
  await build({
    entryPoints: [join(REPO_ROOT, 'sink', 'main.ts')],
    outfile,
    ...NODE_BUNDLE,
  });
  await rm(join(outDir, 'inbox'), { recursive: true, force: true });
  await cp(join(REPO_ROOT, 'sink', 'inbox'), join(outDir, 'inbox'), { recursive: true });
  return outfile;
}

if (isEntryPoint(import.meta.url)) {
  const outfile = await buildSink();
  // stderr, so that `npm start | tee sink.log` keeps only the sink's own lines.
  process.stderr.write(`built ${relative(process.cwd(), outfile)}\n`);
}
