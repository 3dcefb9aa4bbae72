import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// The house rules of the README, checked from the code itself: which folder may import which, and how long a
// source file may grow.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Each deployable part and the folders of ours it may import (besides itself). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  shared: [],
  sink: ['shared'],
  forwarder: ['shared'],
  scripts: ['shared', 'sink', 'forwarder'],
  // The benchmark drives the real parts, as a user would, but never borrows from the tests.
  bench: ['shared', 'sink', 'forwarder', 'scripts'],
};
const SOURCE_FOLDERS = Object.keys(MAY_IMPORT);
const MAX_LINES = 300;

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const topFolder = (path: string) => relative(ROOT, path).split(sep)[0]!;

/** Relative specifiers of every static import, export-from and dynamic import in a module's text. */
export function importedSpecifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /^\s*import\s+['"]([^'"]+)['"]/gm,
  ];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]!);
  return found.filter((specifier) => specifier.startsWith('.'));
}

const files = SOURCE_FOLDERS.flatMap((folder) => sourceFiles(join(ROOT, folder)));

describe('house rules', () => {
  it('finds the source folders', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it.each(SOURCE_FOLDERS)('%s/ imports only the folders it may', (folder) => {
    const wrong: string[] = [];
    for (const file of files.filter((f) => topFolder(f) === folder)) {
      for (const specifier of importedSpecifiers(readFileSync(file, 'utf8'))) {
        const target = topFolder(resolve(dirname(file), specifier));
        if (target !== folder && !MAY_IMPORT[folder]!.includes(target)) {
          wrong.push(`${relative(ROOT, file)} imports ${specifier}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  // The benchmark starts the same servers as the tests (bench/postgres-server.ts, bench/free-port.ts) and the
  // tests may use them, but never the other way round: bench/ stays runnable without the test tree.
  it('bench/ imports nothing from test/', () => {
    const wrong = sourceFiles(join(ROOT, 'bench')).flatMap((file) =>
      importedSpecifiers(readFileSync(file, 'utf8'))
        .filter((specifier) => topFolder(resolve(dirname(file), specifier)) === 'test')
        .map((specifier) => `${relative(ROOT, file)} imports ${specifier}`),
    );
    expect(wrong).toEqual([]);
  });

  it(`keeps every source file at ${MAX_LINES} lines or fewer`, () => {
    const long = files
      .map((file) => ({ file: relative(ROOT, file), lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it('reads imports of every form', () => {
    const text =
      "import a from '../x.js';\nexport { b } from './y.js';\nconst c = await import('../z.js');\nimport './w.js';";
    expect(importedSpecifiers(text).sort()).toEqual(['../x.js', '../z.js', './w.js', './y.js']);
  });

  it('keeps npm run test:unit to pure and in-process tests: nothing spawned, built, or run in a browser', () => {
    // The list as jest.unit.config.js holds it (a JavaScript file the type-check does not see).
    const config = readFileSync(join(ROOT, 'jest.unit.config.js'), 'utf8');
    const patterns = [...config.matchAll(/'(test\/[^']+)'/g)].map((m) => m[1]!);
    const listed = patterns.flatMap((pattern) => {
      if (!pattern.includes('*')) return [pattern];
      const dir = dirname(pattern);
      const suffix = pattern.slice(pattern.indexOf('*') + 1);
      return readdirSync(join(ROOT, dir))
        .filter((name) => name.endsWith(suffix))
        .map((name) => `${dir}/${name}`);
    });
    expect(listed.length).toBeGreaterThan(20);
    const heavy =
      /node:child_process|miniflare|playwright-core|postgres-server|pipedream-standin|buildWorker|spawnSink|runSink|spawnEntry/;
    const offending = listed.filter((file) => heavy.test(readFileSync(join(ROOT, file), 'utf8')));
    // This test names postgres-server itself, in the rule for bench/ above.
    expect(offending.filter((file) => file !== 'test/architecture.test.ts')).toEqual([]);
  });
});
