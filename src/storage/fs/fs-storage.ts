/**
 * The filesystem storage for Node and Deno (one implementation on `node:fs/promises`).
 *
 * Design: Bitcask (Sheehy & Smith, Basho 2010), the log-structured store riak_core shipped with.
 * Each partition is a directory of append-only segment files; every record carries its own CRC-32,
 * and an atomic write (a batch) is one group of records whose last one is the commit marker. An
 * in-memory keydir, rebuilt by scanning the segments on open, maps each key to its newest record, so
 * a `get` is one positioned read and a write is one append. Why this shape: vnode data is mostly
 * point reads and whole-partition folds for handoff, appends make crash recovery a matter of finding
 * the last valid record (a torn tail is detected by checksum and truncated, never misread), and one
 * `fdatasync` can cover every durable write that arrived while the previous one ran (group commit).
 * Overwritten and deleted records are reclaimed by merges that rewrite the live records of sealed
 * segments in key order (so later folds read sequentially) while writes go on; a small manifest file
 * makes the replacement atomic across a crash. Corruption in the middle of a file is skipped up to
 * the next valid record and reported with a `CorruptionError` naming file and offset. A durable
 * write also makes every earlier write of its partition durable (segments are synced when sealed).
 * The price is RAM for every key (about 100 bytes plus the key) and a scan of the data on open; hint
 * files would shorten that scan.
 *
 * Layout: `<dir>/LOCK` (pid of the owner), `<dir>/p-<partition>/<id>.seg` segments,
 * `<dir>/p-<partition>/MERGE` while a merge finishes, `p-<partition>.deleting` while a clear finishes.
 */
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ClosedError, InvalidArgumentError } from '../../core/errors.ts'
import type { NodeStorage, StorageBackend, StorageLimits } from '../backend.ts'
import { checkPartition, resolveStorageLimits } from '../limits.ts'
import { type DirLock, lockDirectory } from './dir-lock.ts'
import { FsBackend } from './fs-backend.ts'

/** Options of {@link FsStorage.open}. */
export interface FsStorageInit {
  /** The data directory; created if absent. Required. */
  dir: string
  /** Size limits. Default: `defaultStorageLimits` (1 KiB keys, 8 MiB values). */
  limits?: Partial<StorageLimits>
  /** A segment file is sealed once it would grow past this many bytes. Default 64 MiB. */
  segmentBytesMax?: number
  /**
   * Sealed segments are merged after a roll once this share of their bytes is dead. Default 0.5; a
   * value above 1 leaves merging to explicit `compact()` calls.
   */
  compactDeadRatio?: number
  /**
   * Receives what recovery and background work want an operator to know: a torn tail dropped, corrupt
   * bytes skipped (with the `CorruptionError` naming file and offset), a background merge that
   * failed (with its error). Default: `console.warn`.
   */
  onWarning?: (message: string, error?: Error) => void
}

const PARTITION_DIR = /^p-(\d+)$/

type ResolvedInit = Required<Omit<FsStorageInit, 'limits'>> & { limits: StorageLimits }

/** A node storage in a directory; see the module comment for the design. */
export class FsStorage implements NodeStorage {
  /** The data directory. */
  readonly dir: string
  readonly #init: ResolvedInit
  readonly #lock: DirLock
  readonly #open = new Map<number, Promise<FsBackend>>()
  /** Partitions whose backend is still closing, with the end of that close. */
  readonly #closing = new Map<number, Promise<void>>()
  #isClosed = false

  private constructor(init: ResolvedInit, lock: DirLock) {
    this.dir = init.dir
    this.#init = init
    this.#lock = lock
  }

  /**
   * Locks `init.dir` and opens the storage in it. Rejects with `StorageError` when the directory
   * cannot be created or written, or another process (or another store in this one) holds it.
   */
  static async open(init: FsStorageInit): Promise<FsStorage> {
    const resolved: ResolvedInit = {
      dir: init.dir,
      limits: resolveStorageLimits(init.limits),
      segmentBytesMax: init.segmentBytesMax ?? 64 * 1024 * 1024,
      compactDeadRatio: init.compactDeadRatio ?? 0.5,
      onWarning: init.onWarning ?? ((message, error) => console.warn(message, error ?? '')),
    }
    if (!Number.isSafeInteger(resolved.segmentBytesMax) || resolved.segmentBytesMax <= 0) {
      throw new InvalidArgumentError(
        `segmentBytesMax must be a positive integer, not ${resolved.segmentBytesMax}`,
      )
    }
    if (!(resolved.compactDeadRatio > 0)) {
      throw new InvalidArgumentError(
        `compactDeadRatio must be positive, not ${resolved.compactDeadRatio}`,
      )
    }
    const lock = await lockDirectory(init.dir)
    try {
      for (const name of await readdir(init.dir)) {
        if (name.endsWith('.deleting'))
          await rm(join(init.dir, name), { recursive: true, force: true })
      }
    } catch (e) {
      await lock.release()
      throw e
    }
    return new FsStorage(resolved, lock)
  }

  async open(partition: number): Promise<StorageBackend> {
    this.#check()
    checkPartition(partition)
    let backend = this.#open.get(partition)
    if (!backend) {
      const closing = this.#closing.get(partition)
      backend = (async () => {
        await closing?.catch(() => {})
        return FsBackend.open({
          ...this.#init,
          partition,
          dir: join(this.dir, `p-${partition}`),
          onClose: (closed) => this.#forgetClosing(partition, closed),
        })
      })()
      this.#open.set(partition, backend)
      backend.catch(() => this.#open.delete(partition))
    }
    return backend
  }

  async partitions(): Promise<number[]> {
    this.#check()
    const found = new Set<number>()
    for (const name of await readdir(this.dir)) {
      const m = PARTITION_DIR.exec(name)
      if (m) found.add(Number(m[1]))
    }
    for (const [partition, pending] of this.#open) {
      const backend = await pending.catch(() => undefined)
      if (backend?.keyCount === 0) found.delete(partition)
    }
    return [...found].sort((a, b) => a - b)
  }

  /** Closes every partition (completing their queued writes) and releases the directory lock. */
  async close(): Promise<void> {
    if (this.#isClosed) return
    this.#isClosed = true
    try {
      const backends = await Promise.allSettled(this.#open.values())
      for (const r of backends) if (r.status === 'fulfilled') await r.value.close()
      await Promise.allSettled(this.#closing.values())
    } finally {
      await this.#lock.release()
    }
  }

  /** A backend started closing: forget it, and let a reopen of its partition wait for the end. */
  #forgetClosing(partition: number, closed: Promise<void>): void {
    this.#open.delete(partition)
    const settled = closed.catch(() => {})
    this.#closing.set(partition, settled)
    void settled.then(() => {
      if (this.#closing.get(partition) === settled) this.#closing.delete(partition)
    })
  }

  #check(): void {
    if (this.#isClosed) throw new ClosedError(`filesystem storage ${this.dir}`)
  }
}
