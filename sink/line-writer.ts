/**
 * Lines for stdout, gathered and written once per turn of the event loop: under load one write carries
 * many access-log lines instead of one (synchronous, on a file) write each. They are gathered by string
 * concatenation, which V8 does without copying until the one write.
 */
export interface LineWriter {
  (line: string): void;
  flush(): void;
}

export function createLineWriter(out: { write(chunk: string): unknown } = process.stdout): LineWriter {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    out.write(text);
  };
  const write = ((line: string) => {
    pending += `${line}\n`;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  }) as LineWriter;
  write.flush = flush;
  return write;
}
