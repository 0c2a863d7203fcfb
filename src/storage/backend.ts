/**
 * The storage contract: a per-node {@link NodeStorage} opens one {@link StorageBackend} per vnode
 * (partition). Keys and values are bytes; a fold walks keys in unsigned byte order from a cursor, so an
 * interrupted handoff resumes where it stopped. Implementations: memory, filesystem (Node and Deno),
 * IndexedDB (browsers); all pass the same compliance suite (`test/storage/compliance.ts`).
 */

/** Options of one write. */
export interface WriteOptions {
  /**
   * When true the returned promise resolves only once the write is on stable storage (fsync, or an
   * IndexedDB transaction with `durability: 'strict'`). When false (the default) it resolves once the
   * write is visible to reads of this backend; a crash may lose it.
   */
  durable?: boolean
}

/** One operation of an atomic {@link StorageBackend.batch}. */
export type BatchOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'delete'; key: Uint8Array }

/** Options of {@link StorageBackend.fold}. */
export interface FoldOptions {
  /** Start strictly after this key (the cursor of a resumed fold). Default: from the first key. */
  after?: Uint8Array
  /** Stop after this many items. Default: no limit. */
  limit?: number
}

/** Approximate contents of a backend, for handoff progress. */
export interface StorageSize {
  /** Number of live keys. */
  items: number
  /** Sum of live key and value lengths, in bytes. */
  bytes: number
}

/** Size limits every backend enforces with a `TooLargeError`. */
export interface StorageLimits {
  /** Largest key, in bytes. Default 1024. */
  keyBytesMax: number
  /** Largest value, in bytes. Default 8 MiB. */
  valueBytesMax: number
}

/** Defaults of {@link StorageLimits}. */
export const defaultStorageLimits: StorageLimits = Object.freeze({
  keyBytesMax: 1024,
  valueBytesMax: 8 * 1024 * 1024,
})

/** The data of one vnode. Every method rejects with `ClosedError` after {@link close}. */
export interface StorageBackend {
  /** The partition this backend holds. */
  readonly partition: number
  /** The value stored under `key` (bytes the caller owns, which later writes do not change), or undefined. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  /**
   * Stores `value` under `key`, replacing any previous value. The backend may read `key` and `value`
   * until the returned promise settles (as `fs.write` does): do not modify them before that.
   */
  put(key: Uint8Array, value: Uint8Array, options?: WriteOptions): Promise<void>
  /** Removes `key`; removing an absent key is not an error. */
  delete(key: Uint8Array, options?: WriteOptions): Promise<void>
  /** Applies all operations or none, in order (a later op on the same key wins). Same buffer rule as `put`. */
  batch(ops: readonly BatchOp[], options?: WriteOptions): Promise<void>
  /**
   * Live entries in unsigned byte order of their keys, from the cursor in `options`. The caller may
   * keep each yielded key and value: the backend does not reuse them (a handoff batches them up).
   */
  fold(options?: FoldOptions): AsyncIterable<[key: Uint8Array, value: Uint8Array]>
  /** Approximate item count and bytes. */
  size(): Promise<StorageSize>
  /** Removes every entry (riak_core's `delete` after a finished handoff). */
  clear(options?: WriteOptions): Promise<void>
  /** Flushes and releases the backend; the node storage may open it again. */
  close(): Promise<void>
}

/** The storage of one node: opens the backend of each partition it hosts. */
export interface NodeStorage {
  /** Opens (creating if needed) the backend of `partition`. Opening an open partition returns the same backend. */
  open(partition: number): Promise<StorageBackend>
  /** Partitions that hold data on this node, so a restarted node restarts its fallback vnodes. */
  partitions(): Promise<number[]>
  /** Closes every open backend and releases the node's store (file locks, database handles). */
  close(): Promise<void>
}
