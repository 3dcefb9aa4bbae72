/**
 * Lines for stdout, gathered and written once per turn of the event loop: under load one write carries
 * many access-log lines instead of one (synchronous, on a pipe) write each.
 */
export interface LineWriter {
  (line: string): void;
  flush(): void;
}

export function createLineWriter(out: { write(chunk: string): unknown } = process.stdout): LineWriter {
  let buffered: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (buffered.length === 0) return;
    const text = buffered.join('\n') + '\n';
    buffered = [];
    out.write(text);
  };
  const write = ((line: string) => {
    buffered.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  }) as LineWriter;
  write.flush = flush;
  return write;
}
