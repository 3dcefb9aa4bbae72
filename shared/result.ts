/** The result of an operation that can fail in an expected way: callers branch, nothing is thrown. */
export type Result<T, R = string> = { ok: true; value: T } | { ok: false; reason: R; message: string };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const fail = <R>(reason: R, message: string): { ok: false; reason: R; message: string } => ({
  ok: false,
  reason,
  message,
});
