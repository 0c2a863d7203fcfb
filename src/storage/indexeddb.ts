/**
 * IndexedDB storage for browsers (riak_core's per-vnode backend, one database per node): every
 * partition of a node lives in one object store keyed by `[partition, keyBytes]`, so a partition is a
 * contiguous key range (see `indexeddb-schema.ts`). Writes of all partitions are group-committed
 * (see `indexeddb-writer.ts`). Imports no `node:*` module; uses the global `indexedDB`.
 */
import { openDB } from 'idb'
import { ClosedError, InvalidArgumentError, StorageError } from '../core/errors.ts'
import type { NodeStorage, StorageBackend, StorageLimits } from './backend.ts'
import { IndexedDbBackend } from './indexeddb-backend.ts'
import {
  decodeEntryKey,
  entriesStore,
  type StorageDatabase,
  type StorageSchema,
  schemaVersion,
  upgradeSchema,
} from './indexeddb-schema.ts'
import { GroupCommitWriter } from './indexeddb-writer.ts'
import { checkPartition, resolveStorageLimits } from './limits.ts'

/** Options of {@link IndexedDbStorage.open}. */
export interface IndexedDbStorageInit {
  /** Name of the node's database, e.g. `solar-orbit/<nodeName>`. Required. */
  name: string
  /** Size limits; missing fields take `defaultStorageLimits` (1 KiB keys, 8 MiB values). */
  limits?: Partial<StorageLimits>
  /** A fold reads about this many bytes per transaction (at least one entry). Default 1 MiB. */
  foldChunkBytes?: number
  /** A fold reads at most this many entries per transaction. Default 1000. */
  foldChunkItems?: number
}

/** A node's storage in one IndexedDB database; one {@link StorageBackend} per partition. */
export class IndexedDbStorage implements NodeStorage {
  readonly #db: StorageDatabase
  readonly #writer: GroupCommitWriter
  readonly #backends = new Map<number, IndexedDbBackend>()
  readonly #limits: StorageLimits
  readonly #foldChunkBytes: number
  readonly #foldChunkItems: number
  #closed = false

  private constructor(db: StorageDatabase, init: IndexedDbStorageInit) {
    this.#db = db
    this.#writer = new GroupCommitWriter(db)
    this.#limits = resolveStorageLimits(init.limits)
    this.#foldChunkBytes = init.foldChunkBytes ?? 1024 * 1024
    this.#foldChunkItems = init.foldChunkItems ?? 1000
  }

  /** Opens (creating if needed) the database `init.name`. Rejects with `StorageError` when it cannot. */
  static async open(init: IndexedDbStorageInit): Promise<IndexedDbStorage> {
    for (const field of ['foldChunkBytes', 'foldChunkItems'] as const) {
      const value = init[field]
      if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
        throw new InvalidArgumentError(`${field} must be a positive integer, got ${value}`)
      }
    }
    let db: StorageDatabase
    try {
      db = await openDB<StorageSchema>(init.name, schemaVersion, {
        upgrade: (database, oldVersion) => upgradeSchema(database, oldVersion),
      })
    } catch (cause) {
      throw new StorageError(`cannot open IndexedDB database ${init.name}`, { cause })
    }
    return new IndexedDbStorage(db, init)
  }

  async open(partition: number): Promise<StorageBackend> {
    if (this.#closed) throw new ClosedError('IndexedDB storage')
    checkPartition(partition)
    let backend = this.#backends.get(partition)
    if (backend === undefined) {
      backend = new IndexedDbBackend({
        partition,
        db: this.#db,
        writer: this.#writer,
        limits: this.#limits,
        foldChunkBytes: this.#foldChunkBytes,
        foldChunkItems: this.#foldChunkItems,
        onClose: (closing) => {
          if (this.#backends.get(partition) === closing) this.#backends.delete(partition)
        },
      })
      this.#backends.set(partition, backend)
    }
    return backend
  }

  async partitions(): Promise<number[]> {
    if (this.#closed) throw new ClosedError('IndexedDB storage')
    await this.#writer.settled()
    const found: number[] = []
    try {
      const tx = this.#db.transaction(entriesStore, 'readonly')
      let cursor = await tx.store.openKeyCursor()
      while (cursor !== null) {
        const [partition] = decodeEntryKey(cursor.key)
        found.push(partition)
        cursor = await cursor.continue([
          partition + 1,
        ] as unknown as StorageSchema['entries']['key'])
      }
    } catch (cause) {
      throw new StorageError('IndexedDB read failed', { cause })
    }
    return found
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([...this.#backends.values()].map((backend) => backend.close()))
    await this.#writer.settled()
    this.#db.close()
  }
}
