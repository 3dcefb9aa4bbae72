import { build } from 'esbuild';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.js';

/**
 * The sink as one JavaScript file (dist/bench/sink.mjs), run with plain `node`: what it costs without tsx's
 * loader (a second V8 isolate compiling TypeScript on the fly). Packages stay imports, resolved from the
 * repository's node_modules. The inbox page's files are not next to the bundle, so it serves its fallback
 * page; nothing measured here touches it.
 */
export async function bundleSink(): Promise<string> {
  const outfile = join(REPO_ROOT, 'dist', 'bench', 'sink.mjs');
  await build({
    entryPoints: [join(REPO_ROOT, 'sink', 'main.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  return outfile;
}
