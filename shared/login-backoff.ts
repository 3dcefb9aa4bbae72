/**
 * Holding password guessing to a slow rate without ever refusing the right password because of someone
 * else's wrong ones.
 *
 * - One client per address, except loopback: 127.0.0.0/8, ::1 and ::ffff:127.x.y.z are one client, since
 *   every address of it is this machine (and every request through the ngrok tunnel arrives from it too, the
 *   forwarder's included).
 * - A client's first `freeFailures` failed logins cost nothing. Past them its credentials are checked no faster
 *   than one every `firstIntervalMs`, doubling with each further failure up to `maxIntervalMs`. A request that
 *   comes sooner is not refused: it waits its turn, so the right password still gets in, and no answer comes
 *   sooner than its turn, so answers cannot tell a guesser which guess was right any faster either.
 * - `maxIntervalMs` × `maxWaiting` (6 s) stays under the forwarder's 7.5 s attempt, so a delivery waiting
 *   behind guesses is still answered in time; past `maxWaiting` waiting, a request is refused with 429 before
 *   its credentials are checked (nothing learnt; the forwarder retries a 429).
 * - A wrong guess in back-off is answered 429 with Retry-After. Failures fade, one every `decayMs`, rather than
 *   being forgotten at the first success: otherwise each of the forwarder's deliveries would hand a guesser
 *   `freeFailures` more free tries. The count is capped, so the owner is at full speed again a few minutes
 *   after a guessing run ends.
 *
 * Memory stays bounded: past `maxClients` the client that failed longest ago is forgotten first.
 */
export interface BackoffLimits {
  /** Failures allowed before any wait. */
  freeFailures: number;
  firstIntervalMs: number;
  maxIntervalMs: number;
  /** Requests of one client waiting for their turn at most. */
  maxWaiting: number;
  /** One failure is forgotten per this many ms. */
  decayMs: number;
  /** Failures counted past freeFailures at most. */
  maxOver: number;
  maxClients: number;
}

export const BACKOFF_LIMITS: BackoffLimits = {
  freeFailures: 10,
  firstIntervalMs: 500,
  maxIntervalMs: 1_500,
  maxWaiting: 4,
  decayMs: 30_000,
  maxOver: 10,
  maxClients: 10_000,
};

/** A request's turn: check its credentials after `waitMs`, or refuse it unchecked. */
export type Turn = { ok: true; waitMs: number } | { ok: false; retryAfterSeconds: number };

export interface LoginBackoff {
  turn(client: string, now: number): Turn;
  /** Records a failed login; `throttled` when it is answered 429 (the client is in back-off) rather than 401. */
  failed(client: string, now: number): { throttled: boolean; retryAfterSeconds: number };
  /** Clients remembered, for the tests of the bound. */
  size(): number;
}

const LOOPBACK_V4 = /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i;

/** The client an address belongs to: loopback is one client; an IPv4-mapped address is its IPv4 one. */
export function clientOf(address: string): string {
  if (address === '::1' || LOOPBACK_V4.test(address)) return 'loopback';
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

interface Entry {
  /** Failures, fading with time (fractional). */
  score: number;
  at: number;
  /** The earliest time the next check may happen. */
  nextSlot: number;
  /** Turns handed out that are still ahead. */
  reserved: number[];
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export function createLoginBackoff(limits: BackoffLimits = BACKOFF_LIMITS): LoginBackoff {
  // Insertion order is the order of last failure: the first entry is the one to forget first.
  const entries = new Map<string, Entry>();
  const fade = (e: Entry, now: number) => {
    e.score = Math.max(0, e.score - (now - e.at) / limits.decayMs);
    e.at = now;
    e.reserved = e.reserved.filter((t) => t > now);
  };
  // Failures fade in whole ones: a fraction still counts as a failure.
  const failures = (e: Entry) => Math.ceil(e.score - 1e-9);
  const inBackoff = (e: Entry) => failures(e) >= limits.freeFailures;
  const interval = (e: Entry) => {
    const over = failures(e) - limits.freeFailures;
    return Math.min(limits.firstIntervalMs * 2 ** Math.min(Math.max(over, 0), 30), limits.maxIntervalMs);
  };
  return {
    turn(client, now) {
      const e = entries.get(client);
      if (e === undefined) return { ok: true, waitMs: 0 };
      fade(e, now);
      if (!inBackoff(e) && e.reserved.length === 0) return { ok: true, waitMs: 0 };
      if (e.reserved.length >= limits.maxWaiting) {
        return { ok: false, retryAfterSeconds: seconds(e.nextSlot - now) };
      }
      const slot = Math.max(now, e.nextSlot);
      e.nextSlot = slot + interval(e);
      if (slot > now) e.reserved.push(slot);
      return { ok: true, waitMs: slot - now };
    },
    failed(client, now) {
      const e = entries.get(client) ?? { score: 0, at: now, nextSlot: now, reserved: [] };
      fade(e, now);
      e.score = Math.min(e.score + 1, limits.freeFailures + limits.maxOver);
      entries.delete(client);
      if (entries.size >= limits.maxClients) entries.delete(entries.keys().next().value!);
      entries.set(client, e);
      // The next check no sooner than one interval after this one.
      if (inBackoff(e)) e.nextSlot = Math.max(e.nextSlot, now + interval(e));
      return { throttled: failures(e) > limits.freeFailures, retryAfterSeconds: seconds(e.nextSlot - now) };
    },
    size: () => entries.size,
  };
}
