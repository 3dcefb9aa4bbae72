import { build, type Metafile, type Plugin } from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { loadManifest, MANIFEST_PATH, REPO_ROOT } from '../forwarder/manifest.js';
import { isEntryPoint } from './cli/entry-point.js';

/**
 * `npm run build:pipedream`: for each step of pipedream.yaml, one self-contained ESM file to paste into a
 * Pipedream Node.js code step (dist/pipedream/steps/<name>.mjs) and one action for `pd publish`
 * (dist/pipedream/actions/<name>.mjs), a plain component object needing no global. esbuild bundles our code in
 * and leaves `@pipedream/platform` and Node's built-in modules as imports; anything else left over fails the
 * build. The platform's import names the version the tests ran (`@pipedream/platform@3.4.0`): Pipedream
 * resolves `pkg@version` imports, so a pasted step does not change under a later release.
 */

export const ALLOWED_PACKAGE = '@pipedream/platform';

/** The installed (and so tested) version of `@pipedream/platform`. */
export async function platformVersion(root: string = REPO_ROOT): Promise<string> {
  const text = await readFile(join(root, 'node_modules', ALLOWED_PACKAGE, 'package.json'), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** Leaves `@pipedream/platform` an import, pinned to `version`. */
function pinPlatform(version: string): Plugin {
  return {
    name: 'pin-pipedream-platform',
    setup(b) {
      const pinned = { path: `${ALLOWED_PACKAGE}@${version}`, external: true };
      b.onResolve({ filter: /^@pipedream\/platform$/ }, () => pinned);
    },
  };
}
/** A pasted step must stay well under this; the build refuses to write a larger one. */
export const MAX_FILE_BYTES = 50 * 1024;

export interface BuiltFile {
  step: string;
  kind: 'step' | 'action';
  path: string;
  bytes: number;
  imports: string[];
}

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isAllowedImport = (path: string, version: string) =>
  path === `${ALLOWED_PACKAGE}@${version}` || builtins.has(path);

function banner(kind: 'step' | 'action', name: string, source: string): string {
  const use =
    kind === 'step'
      ? `Paste into a Pipedream Node.js code step named "${name}".`
      : `Publish with: pd publish ${kind}s/${name}.mjs`;
  return `// Built by npm run build:pipedream from ${source}; do not edit. ${use}`;
}

function importsOf(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const output of Object.values(metafile.outputs)) for (const i of output.imports) found.add(i.path);
  return [...found].sort();
}

export async function buildPipedream(
  options: { root?: string; manifestPath?: string; outDir?: string } = {},
): Promise<BuiltFile[]> {
  const root = options.root ?? REPO_ROOT;
  const outDir = options.outDir ?? join(root, 'dist', 'pipedream');
  const manifest = await loadManifest(options.manifestPath ?? MANIFEST_PATH);
  const version = await platformVersion(REPO_ROOT);
  const built: BuiltFile[] = [];
  for (const step of manifest.steps) {
    for (const [kind, source] of [
      ['step', step.source],
      ['action', step.action],
    ] as const) {
      const result = await build({
        entryPoints: [resolve(root, source)],
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        plugins: [pinPlatform(version)],
        minify: false,
        write: false,
        metafile: true,
        legalComments: 'none',
        logLevel: 'silent',
        banner: { js: banner(kind, step.name, source) },
      });
      const output = result.outputFiles[0];
      if (!output) throw new Error(`esbuild wrote nothing for ${source}`);
      const imports = importsOf(result.metafile);
      const stray = imports.filter((i) => !isAllowedImport(i, version));
      if (stray.length > 0)
        throw new Error(
          `${source} imports ${stray.join(', ')}: only ${ALLOWED_PACKAGE} and Node's own modules may stay imports`,
        );
      if (output.contents.length > MAX_FILE_BYTES) {
        throw new Error(`${source} builds to ${output.contents.length} bytes, over the ${MAX_FILE_BYTES} allowed`);
      }
      const path = join(outDir, `${kind}s`, `${step.name}.mjs`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, output.contents);
      built.push({ step: step.name, kind, path, bytes: output.contents.length, imports });
    }
  }
  return built;
}

if (isEntryPoint(import.meta.url)) {
  const files = await buildPipedream();
  for (const file of files) console.log(`${relative(process.cwd(), file.path)}  ${(file.bytes / 1024).toFixed(1)} KiB`);
}
