/**
 * The contract every store keeps (file: durable JSON lines; memory: throwaway; postgres: a table several
 * sinks share). The HTTP layer, the live event stream and the tests only ever see this interface.
 */

/** What the sink reads from a webhook body once, at receive time, for filters and idempotency. */
export interface RecordMeta {
  messageId: string | null;
  event: string | null;
  status: string | null;
  liveMode: boolean | null;
  /**
   * Whether the sink verified UP42's signature on arrival (UP42_WEBHOOK_SECRET set on the sink): true verified,
   * null (or absent) not checked. A delivery that fails is refused, never stored, so false does not occur today.
   */
  verified?: boolean | null;
  /** The headers UP42's signature covered, in signing order, when the sink verified it. */
  signed?: readonly string[] | null;
}

/** One stored webhook. `body` holds the bytes exactly as received. */
export interface StoredRecord extends RecordMeta {
  key: number;
  /** ISO 8601, UTC. */
  receivedAt: string;
  body: Buffer;
}

export type AppendResult =
  | { status: 'stored'; key: number }
  | { status: 'duplicate'; key: number }
  | { status: 'full' }
  /** A field no store can index (see meta-limits.ts): refused before anything is batched; nothing stored. */
  | { status: 'invalid'; message: string }
  /** The database behind the store is out of reach: nothing was acknowledged; the sender should retry. */
  | { status: 'unavailable'; message: string }
  | { status: 'error'; message: string };

export interface RecordFilter {
  event?: string;
  /** Compared after normalizeStatus on both sides, so `failed permanently` finds `FAILED_PERMANENTLY`. */
  status?: string;
  liveMode?: boolean;
  /** Only keys after this one. */
  since?: number;
  /** Only keys before this one. */
  before?: number;
  /** Case-insensitive substring of the raw body. */
  q?: string;
  limit?: number;
  order?: 'asc' | 'desc';
}

export interface ReadOptions {
  /**
   * The reader is done with each record's body before it asks for the next one (it copies or sends it), so
   * the store may reuse the body's memory for the next record: a long dump then reads the file into one
   * buffer instead of allocating a new one per window.
   */
  transient?: boolean;
}

export interface StoreListener {
  (record: StoredRecord): void;
}

/** What clear() throws when the database behind the store is out of reach (answered 503). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

export interface WebhookStore {
  readonly kind: 'file' | 'memory' | 'postgres';
  /** The data file, the database URL without its password, or null for the memory store. */
  readonly location: string | null;
  readonly count: number;
  /** Bytes the records take, as encoded on disk (the memory store counts the same way; postgres: the bodies). */
  readonly bytes: number;
  readonly maxBytes: number;
  /** 0 when empty. Keys are 1..lastKey, consecutive. */
  readonly lastKey: number;
  /** Why the store cannot serve now (its database is out of reach), or null; absent for stores on this machine. */
  readonly unavailable?: string | null;
  /**
   * Stores a body under the next key. Resolves, never rejects: `error` (disk failure) and `full` consume no
   * key and leave the store serving. `stored` means durable (for the file store: written and fdatasync'ed).
   */
  append(body: Buffer, meta: RecordMeta): Promise<AppendResult>;
  /** Records matching the filter, bodies read from the file for the file store. Stops early after clear(). */
  records(filter?: RecordFilter, options?: ReadOptions): AsyncIterable<StoredRecord>;
  /** Drops every record; keys start again at 1. */
  clear(): Promise<void>;
  /** Flushes what is queued and releases the file. Appends after close() answer `error`. */
  close(): Promise<void>;
  /** `listener` runs after each durable append, `onClear` after each clear(). Returns the unsubscribe. */
  subscribe(listener: StoreListener, onClear?: () => void): () => void;
}
