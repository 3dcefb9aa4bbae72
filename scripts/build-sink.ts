import { build } from 'esbuild';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isEntryPoint } from './cli/entry-point.js';
import { bundleInboxScript } from '../sink/inbox-pages.js';
import { NODE_BUNDLE } from './node-bundle.js';

/**
 * `npm start`'s build (its prestart): the sink as one JavaScript file, dist/sink/main.mjs, run with plain node.
 * Running the TypeScript through tsx instead costs some 30 MB of resident memory for the loader; the bundle
 * keeps the sink small. Packages stay imports, resolved from node_modules. The inbox page goes beside the bundle,
 * where the sink looks for it (next to its own module): its HTML and CSS copied, its TypeScript bundled into
 * inbox.js by the same function a sink run from its sources uses.
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
  const source = join(REPO_ROOT, 'sink', 'inbox');
  const target = join(outDir, 'inbox');
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  for (const name of ['index.html', 'inbox.css']) await copyFile(join(source, name), join(target, name));
  const script = bundleInboxScript(source);
  if (script === null) throw new Error(`the inbox page has no ${join(source, 'main.ts')}`);
  await writeFile(join(target, 'inbox.js'), script);
  return outfile;
}

if (isEntryPoint(import.meta.url)) {
  const outfile = await buildSink();
  // stderr, so that `npm start | tee sink.log` keeps only the sink's own lines.
  process.stderr.write(`built ${relative(process.cwd(), outfile)}\n`);
}
