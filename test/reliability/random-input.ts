import fc from 'fast-check';

/** The random input the sink's and the Worker's random-bytes tests send, on a raw socket. */

const bytes = fc.uint8Array({ minLength: 1, maxLength: 4096 });
/** Bytes alone, behind a request line, or as a declared body of a well-formed POST. */
export const randomInput = fc.oneof(
  bytes.map((b) => Buffer.from(b)),
  fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
      fc.constantFrom('/', '/ping', '/receive-webhooks', '/dump-webhooks', '/events'),
      bytes,
    )
    .map(([m, p, b]) => Buffer.concat([Buffer.from(`${m} ${p} HTTP/1.1\r\n`), b])),
  bytes.map((b) =>
    Buffer.concat([
      Buffer.from(
        'POST /receive-webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${b.length}\r\n\r\n`,
      ),
      b,
    ]),
  ),
  fc.string({ unit: 'binary', maxLength: 2048 }).map((s) => Buffer.from(s, 'utf8')),
);
