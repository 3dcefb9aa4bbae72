import { build } from 'esbuild';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../forwarder/manifest.js';
import { isEntryPoint } from './cli/entry-point.js';

/**
 * `npm run build:worker`: the Cloudflare Worker as one ES module, dist/worker/worker.mjs. The same file is
 * what `npm run worker` runs in workerd, what the tests run, and what `wrangler deploy` uploads (no_bundle in
 * wrangler.json), so what is tested is what is deployed. `node:` modules stay imports: the runtime provides them
 * under the nodejs_compat flag.
 */
export const WORKER_DIST = join(REPO_ROOT, 'dist', 'worker');

export async function buildWorker(outDir: string = WORKER_DIST): Promise<string> {
  const outfile = join(outDir, 'worker.mjs');
  await build({
    entryPoints: [join(REPO_ROOT, 'forwarder', 'worker', 'index.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: ['node:*', 'cloudflare:*'],
    logLevel: 'warning',
  });
  return outfile;
}

if (isEntryPoint(import.meta.url)) {
  const outfile = await buildWorker();
  process.stderr.write(`built ${relative(process.cwd(), outfile)}\n`);
}
