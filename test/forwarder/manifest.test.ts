import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { FORWARD_ENV, VALIDATE_ENV } from '../../forwarder/actions/step-env.js';
import { join } from 'node:path';
import { loadManifest, MANIFEST_PATH, parseManifest, REPO_ROOT } from '../../forwarder/manifest.js';
import { ENV_VARS } from '../../shared/env.js';

// pipedream.yaml against the variable table of shared/env.ts, so the two cannot drift apart.

describe('pipedream.yaml', () => {
  it('describes every forwarder variable exactly as shared/env.ts does, and no other', async () => {
    const manifest = await loadManifest();
    const expected = ENV_VARS.filter((v) => (v.parts as readonly string[]).includes('forwarder')).map((v) => ({
      name: v.name,
      ...('alias' in v ? { alias: v.alias } : {}),
      secret: 'secret' in v && v.secret === true,
      ...('default' in v ? { default: v.default } : {}),
      description: v.description,
    }));
    expect(manifest.env).toEqual(expected);
  });

  it('lists the steps in order, each with sources that exist', async () => {
    const manifest = await loadManifest();
    expect(manifest.trigger).toEqual({ type: 'http', response: 'default' });
    expect(manifest.steps.map((s) => s.name)).toEqual(['validate', 'forward']);
    for (const step of manifest.steps) {
      await expect(readFile(join(REPO_ROOT, step.source), 'utf8')).resolves.toContain(
        'export default defineComponent(',
      );
      await expect(readFile(join(REPO_ROOT, step.action), 'utf8')).resolves.toContain("type: 'action'");
      await expect(readFile(join(REPO_ROOT, step.action), 'utf8')).resolves.not.toContain('defineComponent');
    }
  });

  it("lists per step the variables the table gives it (its action's props), together all the forwarder's", async () => {
    const manifest = await loadManifest();
    const byName = Object.fromEntries(manifest.steps.map((s) => [s.name, s.env]));
    const ofStep = (step: string) => ENV_VARS.filter((v) => 'step' in v && v.step === step).map((v) => v.name);
    expect(byName.validate).toEqual(ofStep('validate'));
    expect(byName.forward).toEqual(ofStep('forward'));
    expect([...VALIDATE_ENV]).toEqual(ofStep('validate'));
    expect([...FORWARD_ENV]).toEqual(ofStep('forward'));
    expect([...VALIDATE_ENV, ...FORWARD_ENV].sort()).toEqual(manifest.env.map((v) => v.name).sort());
  });
});

describe('parseManifest', () => {
  const valid = async () => readFile(MANIFEST_PATH, 'utf8');

  it('accepts the real manifest', async () => {
    expect(parseManifest(await valid()).ok).toBe(true);
  });

  it.each([
    ['not YAML', () => 'steps: [', /not valid YAML/],
    ['no steps', (t: string) => t.replace(/^steps:[\s\S]*?^env:/m, 'steps: []\nenv:'), /steps is empty/],
    [
      'a step named trigger',
      (t: string) => t.replace('- name: validate', '- name: trigger'),
      /lowercase identifier other than trigger/,
    ],
    [
      'a source outside the repository',
      (t: string) => t.replace('source: forwarder/steps/validate.ts', 'source: ../elsewhere.ts'),
      /inside the repository/,
    ],
    [
      'a variable nobody describes',
      (t: string) => t.replace('      - FORWARD_DEADLINE_MS\n', '      - FORWARD_DEADLINE_MS\n      - NOT_DESCRIBED\n'),
      /uses NOT_DESCRIBED/,
    ],
    [
      'a variable without its secret flag',
      (t: string) => t.replace('    secret: true\n    description: The previous', '    description: The previous'),
      /env\[1\]/,
    ],
    ['a trigger that is not HTTP', (t: string) => t.replace('type: http', 'type: timer'), /trigger.type must be http/],
  ])('rejects %s, saying what is wrong', async (_name, edit, message) => {
    const text = edit(await valid());
    const parsed = parseManifest(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toMatch(message);
  });
});
