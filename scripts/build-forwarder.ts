import { build } from 'esbuild';
import { join, relative, resolve } from 'node:path';
import { loadManifest, MANIFEST_PATH, REPO_ROOT } from '../forwarder/manifest.js';
import { isEntryPoint } from './cli/entry-point.js';
import { NODE_BUNDLE } from './node-bundle.js';

/**
 * `npm run forwarder`'s build (its preforwarder): the local runner and the steps of pipedream.yaml as one
 * JavaScript file, dist/forwarder/main.mjs, run with plain node, as `npm start` does for the sink. Through tsx
 * the runner also carried tsx's loader: about 30 MB more resident memory and twice the time to start. The
 * steps are imported statically, in the manifest's order, and the manifest goes in as data, so the bundle
 * runs exactly the workflow it was built from. Packages stay imports, resolved from node_modules.
 */
export const FORWARDER_DIST = join(REPO_ROOT, 'dist', 'forwarder');

const runnerModule = (name: string) => JSON.stringify(join(REPO_ROOT, 'forwarder', 'runner', name));

/** The bundle's entry: `defineComponent` first, then the step modules, then the runner given both. */
async function forwarderEntry(manifestPath: string = MANIFEST_PATH): Promise<string> {
  const manifest = await loadManifest(manifestPath);
  const steps = manifest.steps.map((step, i) => ({ id: `step${i}`, source: step.source }));
  return [
    `import ${runnerModule('define-component.ts')};`,
    ...steps.map((s) => `import * as ${s.id} from ${JSON.stringify(resolve(REPO_ROOT, s.source))};`),
    `import { serveFromCommandLine } from ${runnerModule('serve.ts')};`,
    `await serveFromCommandLine({`,
    `  manifest: ${JSON.stringify(manifest)},`,
    `  modules: { ${steps.map((s) => `${JSON.stringify(s.source)}: ${s.id}`).join(', ')} },`,
    `});`,
  ].join('\n');
}

export async function buildForwarder(
  outDir: string = FORWARDER_DIST,
  manifestPath: string = MANIFEST_PATH,
): Promise<string> {
  const outfile = join(outDir, 'main.mjs');
  await build({
    stdin: {
      contents: await forwarderEntry(manifestPath),
      resolveDir: REPO_ROOT,
      sourcefile: 'forwarder-runner.ts',
      loader: 'ts',
    },
    outfile,
    ...NODE_BUNDLE,
  });
  return outfile;
}

if (isEntryPoint(import.meta.url)) {
  const outfile = await buildForwarder();
  // stderr, so that `npm run forwarder | tee runner.log` keeps only the runner's own lines.
  process.stderr.write(`built ${relative(process.cwd(), outfile)}\n`);
}
