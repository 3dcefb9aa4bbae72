import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from './processes.js';

/** The benchmark's run lengths and store sizes, and the commit it measures. */

// Run lengths and store sizes; --quick only shows that everything runs.
export const FULL = {
  rounds: 3,
  seconds: 10,
  pingSeconds: 5,
  warmupSeconds: 1,
  records: 100_000,
  smallRecords: 10_000,
  startRuns: 3,
  verifyRounds: 5,
  verifySeconds: 1,
  outboxBatch: 1_000,
  outboxBacklog: 10_000,
};
export const QUICK: typeof FULL = {
  rounds: 1,
  seconds: 2,
  pingSeconds: 2,
  warmupSeconds: 0.5,
  records: 10_000,
  smallRecords: 1_000,
  startRuns: 1,
  verifyRounds: 2,
  verifySeconds: 0.5,
  outboxBatch: 200,
  outboxBacklog: 1_000,
};

/** The commit measured, and whether the measured folders differ from it. */
export function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const status = ['status', '--porcelain', '--', 'sink', 'shared', 'forwarder', 'bench', 'scripts'];
    const dirty = execFileSync('git', status, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return 'unknown';
  }
}
