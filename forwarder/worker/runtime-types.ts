/**
 * The few parts of the Workers runtime this Worker uses, typed by hand: @cloudflare/workers-types declares the
 * whole runtime as globals, which clash with Node's in this one TypeScript project.
 */

export interface StorageListOptions {
  prefix?: string;
  limit?: number;
  start?: string;
}

export type SqlValue = string | number | null | ArrayBuffer;

/** A query's rows, read once; `rowsRead` and `rowsWritten` are what Cloudflare bills, known once it is read. */
export interface SqlCursor<T> extends Iterable<T> {
  toArray(): T[];
  readonly rowsRead: number;
  readonly rowsWritten: number;
}

/** The SQL API of a SQLite-backed Durable Object: synchronous, each statement atomic on its own. */
export interface SqlStorage {
  exec<T = Record<string, SqlValue>>(query: string, ...bindings: SqlValue[]): SqlCursor<T>;
}

/** The key-value storage API of a Durable Object (SQLite-backed here); each write is durable once awaited. */
export interface DurableObjectStorage {
  sql: SqlStorage;
  /** Runs `fn` as one transaction: all of its writes or none. */
  transactionSync<T>(fn: () => T): T;
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
  put<T>(entries: Record<string, T>): Promise<void>;
  delete(key: string): Promise<boolean>;
  list<T>(options?: StorageListOptions): Promise<Map<string, T>>;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTimeMs: number): Promise<void>;
  transaction<T>(fn: (txn: DurableObjectStorage) => Promise<T>): Promise<T>;
}

export interface DurableObjectState {
  storage: DurableObjectStorage;
  blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
}

export interface DurableObjectStub {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

export interface DurableObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStub;
}

/** The Worker's bindings: its variables and secrets (strings) and the outbox. */
export interface WorkerEnv {
  OUTBOX: DurableObjectNamespace;
  [variable: string]: unknown;
}
