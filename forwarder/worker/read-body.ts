/**
 * The body of UP42's POST, read as a stream and cut at `maxBytes`: a body that says it is larger, or turns out
 * larger while it arrives (chunked, without a length), is refused before more than `maxBytes` is held.
 * The text is strict UTF-8 (a byte order mark kept), so the text checked against the signed digest and later
 * sent to the sink encodes back to exactly the bytes received.
 */
export type Body =
  { ok: true; raw: string; parsed: unknown; bytes: number } | { ok: false; status: 400 | 413; message: string };

/** How much of a refused body is read and thrown away at most, as the sink's lingering close (sink/http/linger.ts). */
const DISCARD = { bytes: 16 * 1024 * 1024, totalMs: 10_000, pauseMs: 1_000 };

/**
 * Reads and drops what follows of a body refused for its declared length, within DISCARD's bounds: workerd closes
 * a connection whose request body was left unread, and a client still sending (no `Expect: 100-continue`) then
 * gets a broken pipe instead of the answer.
 */
async function discard(request: Request): Promise<void> {
  const reader = request.body?.getReader();
  if (!reader) return;
  const deadline = Date.now() + DISCARD.totalMs;
  let read = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pause = () => new Promise<'pause'>((resolve) => (timer = setTimeout(() => resolve('pause'), DISCARD.pauseMs)));
  try {
    while (read <= DISCARD.bytes && Date.now() < deadline) {
      const next = await Promise.race([reader.read(), pause()]);
      clearTimeout(timer);
      if (next === 'pause' || next.done) break;
      read += next.value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client left or sent a broken body: there is nobody left to answer.
  }
}

const unreadable: Body = {
  ok: false,
  status: 400,
  message: 'the body could not be read: it was cut off or badly framed',
};

export async function readBody(request: Request, maxBytes: number): Promise<Body> {
  const tooLarge: Body = { ok: false, status: 413, message: `the body is larger than ${maxBytes} bytes` };
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await discard(request);
    return tooLarge;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch {
        // A body cut off or badly framed fails that request alone, with a clear answer rather than a runtime error.
        return unreadable;
      }
      const { done, value } = next;
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
