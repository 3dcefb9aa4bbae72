import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildPipedream } from '../scripts/build-pipedream.js';

/** Section 7: the size of the built Pipedream steps, each to be pasted into a code step or published. */

export interface StepFile {
  step: string;
  kind: 'step' | 'action';
  bytes: number;
}

export async function benchStepFiles(workDir: string): Promise<StepFile[]> {
  const outDir = mkdtempSync(join(workDir, 'pipedream-'));
  try {
    return (await buildPipedream({ outDir })).map((f) => ({ step: f.step, kind: f.kind, bytes: f.bytes }));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
