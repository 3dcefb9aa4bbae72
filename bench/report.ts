/** The benchmark's one table: each figure, what was measured, its target, and whether it was met. */

export type Verdict = 'pass' | 'MISS' | 'FAILED' | '';

export interface Row {
  figure: string;
  measured: string;
  target: string;
  verdict: Verdict;
}

export const row = (figure: string, measured: string, target = '', verdict: Verdict = ''): Row => ({
  figure,
  measured,
  target,
  verdict,
});

/** pass/MISS for a target; `FAILED` is kept for lost data. */
export const meets = (ok: boolean): Verdict => (ok ? 'pass' : 'MISS');

export function formatTable(rows: Row[]): string {
  const headers = { figure: 'figure', measured: 'measured', target: 'target', verdict: 'result' };
  const all = [headers, ...rows];
  const width = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const w = { figure: width('figure'), measured: width('measured'), target: width('target') };
  const line = (r: Omit<Row, 'verdict'> & { verdict: string }) =>
    [r.figure.padEnd(w.figure), r.measured.padEnd(w.measured), r.target.padEnd(w.target), r.verdict]
      .join('  ')
      .trimEnd();
  const rule = '-'.repeat(w.figure + w.measured + w.target + 12);
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

export const fmt = {
  rps: (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`,
  ms: (n: number) => (n < 10 ? `${n.toFixed(2)} ms` : `${Math.round(n).toLocaleString('en-US')} ms`),
  /** Decimal units, as the targets are stated (60 MB = 60,000,000 bytes). */
  mb: (n: number) => `${(n / 1e6).toFixed(1)} MB`,
  kb: (n: number) => `${(n / 1e3).toFixed(1)} KB`,
  ratio: (n: number) => n.toFixed(3),
};
