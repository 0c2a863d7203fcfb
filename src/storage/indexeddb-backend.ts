/**
 * The {@link StorageBackend} of one partition inside a node's IndexedDB database. Writes go through
 * the node's {@link GroupCommitWriter} and are visible at once through {@link PendingWrites}; reads,
 * folds and sizes read the partition's key range of the shared `entries` store.
 */
import { copyBytes } from '../core/bytes.ts'
import { ClosedError, InvalidArgumentError, StorageError } from '../core/errors.ts'
import type {
  BatchOp,
  FoldOptions,
  StorageBackend,
  StorageLimits,
  StorageSize,
  WriteOptions,
} from './backend.ts'
import { type FoldChunk, FoldWatches, readChunk } from './indexeddb-fold.ts'
import { PendingWrites } from './indexeddb-pending.ts'
import {
  decodeEntryKey,
  entriesStore,
  entryKey,
  partitionRange,
  type StorageDatabase,
} from './indexeddb-schema.ts'
import type { EntryWrite, GroupCommitWriter } from './indexeddb-writer.ts'
import { checkBatch, checkKey } from './limits.ts'

/** What an {@link IndexedDbBackend} needs from its node storage. */
export interface IndexedDbBackendInit {
  /** The partition this backend holds. */
  partition: number
  /** The node's database. */
  db: StorageDatabase
  /** The node's writer, shared by all its partitions. */
  writer: GroupCommitWriter
  /** Size limits to enforce. */
  limits: StorageLimits
  /** A fold reads this many bytes of keys and values per transaction, at least one entry. */
  foldChunkBytes: number
  /** A fold reads at most this many entries per transaction. */
  foldChunkItems: number
  /** Called when the backend closes, before it waits for its writes to settle. */
  onClose: (backend: IndexedDbBackend) => void
}

/** One partition's data in IndexedDB; opened by `IndexedDbStorage.open`. */
export class IndexedDbBackend implements StorageBackend {
  readonly partition: number
  readonly #init: IndexedDbBackendInit
  readonly #pending = new PendingWrites()
  readonly #folds = new FoldWatches()
  #closed = false

  constructor(init: IndexedDbBackendInit) {
    this.partition = init.partition
    this.#init = init
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#checkOpen()
    checkKey(key, this.#init.limits)
    const pending = this.#pending.lookup(key)
    if (pending !== undefined) return pending.value && copyBytes(pending.value)
    try {
      return await this.#init.db.get(entriesStore, entryKey(this.partition, key))
    } catch (cause) {
      throw new StorageError('IndexedDB read failed', { cause })
    }
  }

  async put(key: Uint8Array, value: Uint8Array, options?: WriteOptions): Promise<void> {
    await this.batch([{ type: 'put', key, value }], options)
  }

  async delete(key: Uint8Array, options?: WriteOptions): Promise<void> {
    await this.batch([{ type: 'delete', key }], options)
  }

  async batch(ops: readonly BatchOp[], options?: WriteOptions): Promise<void> {
    this.#checkOpen()
    checkBatch(ops, this.#init.limits)
    if (ops.length === 0) return
    const changes = ops.map((op): [Uint8Array, Uint8Array | undefined] => [
      op.key,
      op.type === 'put' ? copyBytes(op.value) : undefined,
    ])
    const writes = changes.map(([key, value]): EntryWrite => {
      const k = entryKey(this.partition, key)
      return value === undefined ? { type: 'delete', key: k } : { type: 'put', key: k, value }
    })
    this.#folds.touched(ops.map((op) => op.key))
    await this.#write(this.#pending.record(changes), writes, options)
  }

  async *fold(options: FoldOptions = {}): AsyncIterable<[key: Uint8Array, value: Uint8Array]> {
    this.#checkOpen()
    let { after, limit = Number.POSITIVE_INFINITY } = options
    if (after !== undefined) checkKey(after, this.#init.limits)
    if (!(limit >= 0)) throw new InvalidArgumentError(`fold limit ${limit} is negative`)
    const { db, writer, foldChunkItems, foldChunkBytes } = this.#init
    while (limit > 0) {
      const watch = this.#folds.watch(after)
      try {
        await writer.settled()
        this.#checkOpen()
        const items = Math.min(limit, foldChunkItems)
        let chunk: FoldChunk
        try {
          chunk = await readChunk(db, this.partition, after, items, foldChunkBytes)
        } catch (cause) {
          throw new StorageError('IndexedDB read failed', { cause })
        }
        watch.to = chunk.entries.at(-1)?.[0]
        for (const entry of chunk.entries) {
          if (watch.stale) break
          after = watch.from = entry[0]
          limit -= 1
          yield entry
        }
        if (chunk.done && !watch.stale) return
      } finally {
        this.#folds.release(watch)
      }
    }
  }

  async size(): Promise<StorageSize> {
    this.#checkOpen()
    await this.#init.writer.settled()
    const size = { items: 0, bytes: 0 }
    try {
      const tx = this.#init.db.transaction(entriesStore, 'readonly')
      let cursor = await tx.store.openCursor(partitionRange(this.partition))
      while (cursor !== null) {
        size.items += 1
        size.bytes += decodeEntryKey(cursor.key)[1].byteLength + cursor.value.byteLength
        cursor = await cursor.continue()
      }
    } catch (cause) {
      throw new StorageError('IndexedDB read failed', { cause })
    }
    return size
  }

  async clear(options?: WriteOptions): Promise<void> {
    this.#checkOpen()
    this.#folds.cleared()
    const settle = this.#pending.recordClear()
    await this.#write(
      settle,
      [{ type: 'deleteRange', range: partitionRange(this.partition) }],
      options,
    )
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#init.onClose(this)
    await this.#init.writer.settled()
  }

  async #write(settle: () => void, writes: EntryWrite[], options?: WriteOptions): Promise<void> {
    const done = this.#init.writer.write(writes, options?.durable === true)
    done.then(settle, settle)
    await done
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError(`IndexedDB backend of partition ${this.partition}`)
  }
}
