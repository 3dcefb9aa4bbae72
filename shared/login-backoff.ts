/**
 * Backing off password guessing: after a few failed logins from one client address, each further failure
 * makes that address wait, twice as long each time, before its next try is even checked (429 with
 * Retry-After). A success forgets the address. Memory stays bounded: past `maxAddresses` the address
 * that failed longest ago is forgotten first.
 */
export interface LoginBackoff {
  /** Whole seconds `address` must still wait, or 0 when its credentials may be checked. */
  waitSeconds(address: string, now: number): number;
  failed(address: string, now: number): void;
  succeeded(address: string): void;
  /** Addresses remembered, for the tests of the bound. */
  size(): number;
}

export interface BackoffLimits {
  /** Failures allowed before any wait. */
  freeFailures: number;
  firstWaitMs: number;
  maxWaitMs: number;
  maxAddresses: number;
}

export const BACKOFF_LIMITS: BackoffLimits = {
  freeFailures: 10,
  firstWaitMs: 1_000,
  maxWaitMs: 5 * 60_000,
  maxAddresses: 10_000,
};

export function createLoginBackoff(limits: BackoffLimits = BACKOFF_LIMITS): LoginBackoff {
  // Insertion order is the order of last failure: the first entry is the one to forget first.
  const entries = new Map<string, { failures: number; until: number }>();
  return {
    waitSeconds(address, now) {
      const entry = entries.get(address);
      return entry === undefined || entry.until <= now ? 0 : Math.ceil((entry.until - now) / 1000);
    },
    failed(address, now) {
      const failures = (entries.get(address)?.failures ?? 0) + 1;
      entries.delete(address);
      if (entries.size >= limits.maxAddresses) entries.delete(entries.keys().next().value!);
      const over = failures - limits.freeFailures;
      const wait = over <= 0 ? 0 : Math.min(limits.firstWaitMs * 2 ** Math.min(over - 1, 30), limits.maxWaitMs);
      entries.set(address, { failures, until: now + wait });
    },
    succeeded(address) {
      entries.delete(address);
    },
    size: () => entries.size,
  };
}
