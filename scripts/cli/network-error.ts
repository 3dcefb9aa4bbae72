/**
 * One line saying why an HTTP exchange with `target` did not happen, from what undici or the socket threw.
 * Never includes a stack or request headers.
 */
export function describeNetworkError(error: unknown, target: string): { kind: 'timeout' | 'network'; message: string } {
  const err = error as { name?: string; code?: string; message?: string; cause?: unknown } | null;
  const codes = [err?.code, (err?.cause as { code?: string } | undefined)?.code].filter(
    (c): c is string => typeof c === 'string',
  );
  const name = err?.name ?? '';
  if (name === 'TimeoutError' || name === 'AbortError' || codes.some((c) => /TIMEOUT/.test(c))) {
    return { kind: 'timeout', message: `timeout talking to ${target}` };
  }
  const code = codes[0];
  switch (code) {
    case 'ECONNREFUSED':
      return { kind: 'network', message: `connection refused: ${target}` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { kind: 'network', message: `host not found: ${target}` };
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return { kind: 'network', message: `connection closed by ${target} before it answered` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { kind: 'network', message: `no route to ${target}` };
    default: {
      const detail = (err?.message ?? String(error)).split('\n')[0];
      return { kind: 'network', message: `network error talking to ${target}: ${code ? `${code} ` : ''}${detail}` };
    }
  }
}
