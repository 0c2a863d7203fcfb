/**
 * The in-memory storage: the reference implementation of the storage contract, and the disk of a
 * simulated node. Data lives on a {@link MemoryVolume} that outlives the {@link MemoryStorage} using
 * it, so a simulated node can crash ({@link MemoryStorage.crash}) and restart on the same volume.
 * A crash drops every write made since the last durable point, as a power cut drops what was not
 * yet fsynced: a durable write (or a close) makes it and every earlier write durable, in order. To
 * undo them, the storage holds what each such write replaced until the next durable point; a storage
 * that never simulates a power cut ({@link MemoryStorageInit.simulatePowerLoss} false) makes every
 * write durable at once and holds nothing.
 * Everything is synchronous underneath and uses no timers, so simulations stay deterministic.
 */
import { copyBytes } from '../core/bytes.ts'
import { ClosedError, StorageError } from '../core/errors.ts'
import type {
  BatchOp,
  FoldOptions,
  NodeStorage,
  StorageBackend,
  StorageLimits,
  StorageSize,
  WriteOptions,
} from './backend.ts'
import { KeyIndex, keyToString } from './key-index.ts'
import { checkBatch, checkEntry, checkKey, checkPartition, resolveStorageLimits } from './limits.ts'

interface Entry {
  key: Uint8Array
  value: Uint8Array
}

/** How to undo one write that is not durable yet. */
type Undo = { key: string; previous: Entry | undefined } | { index: KeyIndex<Entry>; bytes: number }

/** The data of one partition on a volume. */
class PartitionData {
  index = new KeyIndex<Entry>()
  bytes = 0
  /** Undo records of the writes since the last durable point, oldest first. */
  undo: Undo[] = []

  apply(ops: readonly BatchOp[], durable: boolean): void {
    for (const op of ops) {
      const key = keyToString(op.key)
      const previous =
        op.type === 'put'
          ? this.index.set(key, { key: copyBytes(op.key), value: copyBytes(op.value) })
          : this.index.delete(key)
      if (previous) this.bytes -= previous.key.length + previous.value.length
      if (op.type === 'put') this.bytes += op.key.length + op.value.length
      if (!durable) this.undo.push({ key, previous })
    }
    if (durable) this.#forgetUndo()
  }

  clear(durable: boolean): void {
    if (!durable) this.undo.push({ index: this.index, bytes: this.bytes })
    else this.#forgetUndo()
    this.index = new KeyIndex<Entry>()
    this.bytes = 0
  }

  /**
   * Everything is durable now. Allocates nothing when there was nothing to undo, as for every write
   * of a storage that does not simulate power loss.
   */
  #forgetUndo(): void {
    if (this.undo.length > 0) this.undo = []
  }

  /** Rolls back every write that is not durable, newest first. */
  dropVolatile(): void {
    for (const undo of this.undo.reverse()) {
      if ('index' in undo) {
        this.index = undo.index
        this.bytes = undo.bytes
        continue
      }
      const current = this.index.get(undo.key)
      if (current) this.bytes -= current.key.length + current.value.length
      if (undo.previous) {
        this.index.set(undo.key, undo.previous)
        this.bytes += undo.previous.key.length + undo.previous.value.length
      } else {
        this.index.delete(undo.key)
      }
    }
    this.undo = []
  }
}

/**
 * The medium a {@link MemoryStorage} keeps its data on. It outlives the storage: open a new
 * `MemoryStorage` on the same volume to restart a node. One storage may use a volume at a time.
 */
export class MemoryVolume {
  readonly #partitions = new Map<number, PartitionData>()
  #user: MemoryStorage | undefined

  /** @internal Claims the volume for `storage`; a second live user is refused. */
  attach(storage: MemoryStorage): void {
    if (this.#user !== undefined) {
      throw new StorageError('memory volume is already in use by another open MemoryStorage')
    }
    this.#user = storage
  }

  /** @internal Releases the volume; `crash` first drops every write that is not durable. */
  detach(crash: boolean): void {
    for (const data of this.#partitions.values()) {
      if (crash) data.dropVolatile()
      else data.undo = []
    }
    this.#user = undefined
  }

  /** @internal The data of `partition`, created empty when absent. */
  partition(partition: number): PartitionData {
    let data = this.#partitions.get(partition)
    if (!data) {
      data = new PartitionData()
      this.#partitions.set(partition, data)
    }
    return data
  }

  /** Partitions that hold at least one entry. */
  partitionsWithData(): number[] {
    return [...this.#partitions].filter(([, d]) => d.index.count > 0).map(([p]) => p)
  }
}

/** Options of {@link MemoryStorage}. */
export interface MemoryStorageInit {
  /** Size limits. Default: `defaultStorageLimits` (1 KiB keys, 8 MiB values). */
  limits?: Partial<StorageLimits>
  /** The volume to keep data on; pass a closed or crashed storage's volume to restart it. Default: a new, empty volume. */
  volume?: MemoryVolume
  /**
   * Whether {@link MemoryStorage.crash} loses the writes made since the last durable point. That
   * means holding every value a write replaced or deleted until the next durable write. Pass false
   * for a node's own in-memory storage, whose crash is the end of its process: every write is then
   * durable at once, and overwriting a key frees its old value. Default true.
   */
  simulatePowerLoss?: boolean
}

/** A node storage held in memory; see the module comment for its crash semantics. */
export class MemoryStorage implements NodeStorage {
  /** The volume holding this storage's data. */
  readonly volume: MemoryVolume
  readonly #limits: StorageLimits
  readonly #alwaysDurable: boolean
  readonly #open = new Map<number, MemoryBackend>()
  #closed = false

  constructor(init: MemoryStorageInit = {}) {
    this.#limits = resolveStorageLimits(init.limits)
    this.#alwaysDurable = init.simulatePowerLoss === false
    this.volume = init.volume ?? new MemoryVolume()
    this.volume.attach(this)
  }

  async open(partition: number): Promise<StorageBackend> {
    this.#check()
    checkPartition(partition)
    let backend = this.#open.get(partition)
    if (!backend) {
      backend = new MemoryBackend(
        partition,
        this.volume.partition(partition),
        { limits: this.#limits, alwaysDurable: this.#alwaysDurable },
        () => this.#open.delete(partition),
      )
      this.#open.set(partition, backend)
    }
    return backend
  }

  async partitions(): Promise<number[]> {
    this.#check()
    return this.volume.partitionsWithData()
  }

  /** Closes every backend; their writes become durable. Closing twice does nothing. */
  async close(): Promise<void> {
    this.#shutDown(false)
  }

  /**
   * Simulates a crash of the node: open backends stop (rejecting with `ClosedError`) and every write
   * made since the last durable point is lost. Restart with `new MemoryStorage({ volume })`.
   */
  crash(): void {
    this.#shutDown(true)
  }

  #shutDown(crash: boolean): void {
    if (this.#closed) return
    this.#closed = true
    for (const backend of [...this.#open.values()]) backend.kill()
    this.volume.detach(crash)
  }

  #check(): void {
    if (this.#closed) throw new ClosedError('memory storage')
  }
}

/** One partition of a {@link MemoryStorage}. */
class MemoryBackend implements StorageBackend {
  readonly partition: number
  readonly #data: PartitionData
  readonly #limits: StorageLimits
  readonly #alwaysDurable: boolean
  readonly #onClose: () => void
  #closed = false

  constructor(
    partition: number,
    data: PartitionData,
    options: { limits: StorageLimits; alwaysDurable: boolean },
    onClose: () => void,
  ) {
    this.partition = partition
    this.#data = data
    this.#limits = options.limits
    this.#alwaysDurable = options.alwaysDurable
    this.#onClose = onClose
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#check()
    checkKey(key, this.#limits)
    const entry = this.#data.index.get(keyToString(key))
    return entry && copyBytes(entry.value)
  }

  async put(key: Uint8Array, value: Uint8Array, options?: WriteOptions): Promise<void> {
    this.#check()
    checkEntry(key, value, this.#limits)
    this.#data.apply([{ type: 'put', key, value }], this.#durable(options))
  }

  async delete(key: Uint8Array, options?: WriteOptions): Promise<void> {
    this.#check()
    checkKey(key, this.#limits)
    this.#data.apply([{ type: 'delete', key }], this.#durable(options))
  }

  async batch(ops: readonly BatchOp[], options?: WriteOptions): Promise<void> {
    this.#check()
    checkBatch(ops, this.#limits)
    this.#data.apply(ops, this.#durable(options))
  }

  async *fold(options: FoldOptions = {}): AsyncGenerator<[Uint8Array, Uint8Array]> {
    this.#check()
    if (options.after) checkKey(options.after, this.#limits)
    let left = options.limit ?? Number.POSITIVE_INFINITY
    if (left <= 0) return
    const after = options.after && keyToString(options.after)
    for (const key of this.#data.index.keysAfter(after)) {
      this.#check()
      const entry = this.#data.index.get(key)
      if (!entry) continue
      yield [copyBytes(entry.key), copyBytes(entry.value)]
      if (--left <= 0) return
    }
  }

  async size(): Promise<StorageSize> {
    this.#check()
    return { items: this.#data.index.count, bytes: this.#data.bytes }
  }

  async clear(options?: WriteOptions): Promise<void> {
    this.#check()
    this.#data.clear(this.#durable(options))
  }

  /** Makes this partition's writes durable and stops the backend. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#data.undo = []
    this.kill()
  }

  /** @internal Stops this backend without touching its data (close or crash of the storage). */
  kill(): void {
    this.#closed = true
    this.#onClose()
  }

  #check(): void {
    if (this.#closed) throw new ClosedError(`memory partition ${this.partition}`)
  }

  #durable(options: WriteOptions | undefined): boolean {
    return this.#alwaysDurable || (options?.durable ?? false)
  }
}
