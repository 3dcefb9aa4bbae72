import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { fail, ok, type Result } from '../shared/result.js';

/**
 * pipedream.yaml, the manifest of the workflow: the build and the tests take the step list from it, in order,
 * and nothing else hard-codes it.
 */

export interface ManifestStep {
  /** As Pipedream shows it, and the key under `steps` for later steps. */
  name: string;
  description: string;
  /** The code step's TypeScript source, relative to the repository root. */
  source: string;
  /** The publishable action's TypeScript source, relative to the repository root. */
  action: string;
  env: string[];
}

export interface ManifestEnvVar {
  name: string;
  alias?: string;
  secret: boolean;
  default?: string;
  description: string;
}

export interface Manifest {
  name: string;
  description: string;
  trigger: { type: 'http'; response: 'default' | 'custom' };
  steps: ManifestStep[];
  env: ManifestEnvVar[];
}

/** The repository root: the folder holding pipedream.yaml. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MANIFEST_PATH = join(REPO_ROOT, 'pipedream.yaml');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
const isRelativeSource = (v: unknown): v is string =>
  isString(v) && !isAbsolute(v) && !normalize(v).startsWith('..') && v.endsWith('.ts');

export function parseManifest(text: string): Result<Manifest, 'invalid-manifest'> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    return fail('invalid-manifest', `pipedream.yaml is not valid YAML: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  if (!isObject(doc)) return fail('invalid-manifest', 'pipedream.yaml must be a mapping');
  if (!isString(doc.name)) problems.push('name is missing');
  const trigger = isObject(doc.trigger) ? doc.trigger : {};
  if (trigger.type !== 'http') problems.push('trigger.type must be http');
  const response = trigger.response ?? 'default';
  if (response !== 'default' && response !== 'custom') problems.push('trigger.response must be default or custom');

  const env: ManifestEnvVar[] = [];
  for (const [i, v] of (Array.isArray(doc.env) ? doc.env : []).entries()) {
    if (!isObject(v) || !isString(v.name) || !isString(v.description) || typeof v.secret !== 'boolean') {
      problems.push(`env[${i}] needs a name, a description and secret: true or false`);
      continue;
    }
    env.push({
      name: v.name,
      alias: isString(v.alias) ? v.alias : undefined,
      secret: v.secret,
      default: v.default !== undefined ? String(v.default) : undefined,
      description: v.description,
    });
  }
  const envNames = new Set(env.map((v) => v.name));

  const steps: ManifestStep[] = [];
  const rawSteps = Array.isArray(doc.steps) ? doc.steps : [];
  if (rawSteps.length === 0) problems.push('steps is empty');
  for (const [i, s] of rawSteps.entries()) {
    if (!isObject(s) || !isString(s.name) || !/^[a-z][a-z0-9_]*$/.test(s.name) || s.name === 'trigger') {
      problems.push(`steps[${i}].name must be a lowercase identifier other than trigger`);
      continue;
    }
    if (!isRelativeSource(s.source) || !isRelativeSource(s.action)) {
      problems.push(`steps[${i}] (${s.name}) needs source and action: .ts files inside the repository`);
      continue;
    }
    const stepEnv = Array.isArray(s.env) ? s.env.filter(isString) : [];
    for (const name of stepEnv)
      if (!envNames.has(name)) problems.push(`steps[${i}] (${s.name}) uses ${name}, which env does not describe`);
    if (steps.some((other) => other.name === s.name)) problems.push(`step name ${s.name} is used twice`);
    steps.push({
      name: s.name,
      description: isString(s.description) ? s.description : '',
      source: s.source,
      action: s.action,
      env: stepEnv,
    });
  }
  if (problems.length > 0) return fail('invalid-manifest', `pipedream.yaml: ${problems.join('; ')}`);
  return ok({
    name: doc.name as string,
    description: isString(doc.description) ? doc.description : '',
    trigger: { type: 'http', response: response as 'default' | 'custom' },
    steps,
    env,
  });
}

export async function loadManifest(path: string = MANIFEST_PATH): Promise<Manifest> {
  const parsed = parseManifest(await readFile(path, 'utf8'));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
}
