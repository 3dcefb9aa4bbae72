/**
 * The body of UP42's POST, read as a stream and cut at `maxBytes`: a body that says it is larger, or turns out
 * larger while it arrives (chunked, without a length), is refused before more than `maxBytes` is held.
 * The text is strict UTF-8 (a byte order mark kept), so the text checked against the signed digest and later
 * sent to the sink encodes back to exactly the bytes received.
 */
export type Body =
  { ok: true; raw: string; parsed: unknown; bytes: number } | { ok: false; status: 400 | 413; message: string };

export async function readBody(request: Request, maxBytes: number): Promise<Body> {
  const tooLarge: Body = { ok: false, status: 413, message: `the body is larger than ${maxBytes} bytes` };
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) return tooLarge;
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        // Stop reading: the rest is never taken off the connection.
        await reader.cancel().catch(() => undefined);
        return tooLarge;
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  let raw: string;
  try {
    raw = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { ok: false, status: 400, message: 'the body is not valid UTF-8' };
  }
  try {
    return { ok: true, raw, parsed: JSON.parse(raw) as unknown, bytes: size };
  } catch {
    return { ok: false, status: 400, message: 'the body is not valid JSON' };
  }
}
