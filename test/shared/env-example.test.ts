import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ENV_VARS } from '../../shared/env.js';

// .env.example is what a newcomer copies; it must name every variable the code reads, with the code's defaults.
const lines = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8').split('\n');
const assignments = new Map<string, { value: string; line: number }>();
lines.forEach((line, index) => {
  const match = /^([A-Za-z0-9_]+)=(.*)$/.exec(line);
  if (match) assignments.set(match[1]!, { value: match[2]!, line: index });
});

describe('.env.example', () => {
  it('lists exactly the variables of shared/env.ts', () => {
    expect([...assignments.keys()].sort()).toEqual(ENV_VARS.map((v) => v.name).sort());
  });

  it.each(ENV_VARS.map((v) => [v.name, v] as const))('%s has its default, description and alias', (name, spec) => {
    const entry = assignments.get(name)!;
    expect(entry.value).toBe('default' in spec ? spec.default : '');
    const comments = [];
    for (let i = entry.line - 1; i >= 0 && lines[i]!.startsWith('#'); i--) comments.push(lines[i]!);
    const text = comments.join('\n');
    expect(text).toContain(spec.description);
    if ('alias' in spec) expect(text).toContain(spec.alias);
  });

  it('holds no secret value', () => {
    for (const spec of ENV_VARS.filter((v) => 'secret' in v && v.secret))
      expect(assignments.get(spec.name)!.value).toBe('');
  });
});
