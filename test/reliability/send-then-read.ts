import { connect } from 'node:net';

/** A 2 MiB body: over the sink's limit in its test and over the Worker's 1 MiB. */
export const BODY = 2 * 1024 * 1024;

/**
 * Sends headers and a 2 MiB body in 64 KiB writes, one after the other, and reads only once all is sent (as
 * Python's urllib does: sendall, then read): a server that closes while bytes are still coming makes the
 * writes fail with a broken pipe and the answer is never read.
 */
export function sendThenRead(url: string, path: string): Promise<{ answer: string; error: string | null }> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    let answer = '';
    let error: string | null = null;
    socket.pause();
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on('close', () => resolve({ answer, error }));
    // A whole answer read is the end of the exchange, whether or not the server then keeps the connection open.
    socket.setEncoding('latin1').on('data', (d: string) => {
      answer += d;
      const head = answer.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)\r\n/i.exec(answer.slice(0, head + 2));
      if (head >= 0 && length && answer.length >= head + 4 + Number(length[1])) socket.destroy();
    });
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${BODY}\r\n\r\n`,
    );
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const next = () => {
      if (sent >= BODY) {
        socket.resume();
        return;
      }
      sent += chunk.length;
      // The next write waits for the event loop to turn, so the server reads (and may answer) meanwhile.
      socket.write(chunk, (err) => {
        if (!err) setImmediate(next);
      });
    };
    next();
  });
}

/** Sends the 2 MiB body `tries` times, one after the other; each try that did not read a 413, described. */
export async function unread413s(url: string, path: string, tries: number): Promise<string[]> {
  const failures: string[] = [];
  for (let i = 0; i < tries; i += 1) {
    const { answer, error } = await sendThenRead(url, path);
    if (answer.startsWith('HTTP/1.1 413 ')) continue;
    failures.push(`try ${i + 1}: ${error ?? 'no error'}, read ${JSON.stringify(answer.slice(0, 40))}`);
  }
  return failures;
}
