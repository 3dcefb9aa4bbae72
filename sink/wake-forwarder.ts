import type { BasicAuth } from '../shared/config.js';

/**
 * Tells the Worker the sink is back (`POST ${FORWARDER_URL}/wake` with the sink's own credentials), so its
 * outbox drains at once instead of at its next planned try, hours away after a long sleep. A failure is one
 * warning line: the outbox still comes on its own schedule. The line names the URL and the status, never the
 * credentials.
 */
const WAKE_TIMEOUT_MS = 10_000;

export async function wakeForwarder(
  forwarderUrl: string,
  auth: BasicAuth | null,
  warn: (line: string) => void,
): Promise<boolean> {
  const url = `${forwarderUrl}/wake`;
  const headers: Record<string, string> = {};
  if (auth !== null)
    headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.pass}`, 'utf8').toString('base64')}`;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(WAKE_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.status === 200) return true;
    warn(`sink: warning: ${url} answered ${response.status}; the outbox delivers on its own schedule`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    warn(`sink: warning: could not reach ${url} (${message}); the outbox delivers on its own schedule`);
  }
  return false;
}
