/**
 * Waits until `check` answers something other than undefined/false, looking again each time `interval` passes,
 * and fails with `what` and the last state after `timeoutMs`. For side effects no event announces (a file a
 * child process writes, a row another process stores): the test waits on the effect, not for a fixed time.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { what: string; timeoutMs?: number; intervalMs?: number; describe?: () => string },
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const state = options.describe ? `; ${options.describe()}` : '';
      throw new Error(`waited ${options.timeoutMs ?? 20_000} ms for ${options.what}${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}
