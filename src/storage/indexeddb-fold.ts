/**
 * Folding one partition in chunks. An IndexedDB transaction cannot stay open while the consumer of
 * a fold works between items, so a fold reads a chunk per transaction and resumes strictly after the
 * last key it yielded. A {@link FoldWatch} notices writes that land inside a chunk already read; the
 * fold then drops the rest of that chunk and reads again, so it never yields a key deleted before it
 * got there, nor a key twice.
 */
import { compareBytes } from '../core/bytes.ts'
import {
  decodeEntryKey,
  entriesStore,
  partitionRange,
  type StorageDatabase,
} from './indexeddb-schema.ts'

/** The keys a running fold has read but not yet yielded: strictly after `from`, up to `to`. */
export interface FoldWatch {
  /** The last key yielded (or the fold's cursor); undefined before the first key. */
  from: Uint8Array | undefined
  /** The last key of the chunk read; undefined while reading (everything after `from`). */
  to: Uint8Array | undefined
  /** Set when a write touched a key in the watched range, or the partition was cleared. */
  stale: boolean
}

/** The running folds of one partition; writes report the keys they touch. */
export class FoldWatches {
  readonly #watches = new Set<FoldWatch>()

  /** Starts watching every key after `from`; call {@link release} when done. */
  watch(from: Uint8Array | undefined): FoldWatch {
    const watch: FoldWatch = { from, to: undefined, stale: false }
    this.#watches.add(watch)
    return watch
  }

  /** Stops watching. */
  release(watch: FoldWatch): void {
    this.#watches.delete(watch)
  }

  /** Marks the folds whose unyielded keys include one of `keys`. */
  touched(keys: readonly Uint8Array[]): void {
    for (const watch of this.#watches) {
      if (keys.some((key) => within(watch, key))) watch.stale = true
    }
  }

  /** Marks every fold (the partition was cleared). */
  cleared(): void {
    for (const watch of this.#watches) watch.stale = true
  }
}

function within(watch: FoldWatch, key: Uint8Array): boolean {
  if (watch.from !== undefined && compareBytes(key, watch.from) <= 0) return false
  return watch.to === undefined || compareBytes(key, watch.to) <= 0
}

/** Entries of one chunk, and whether the partition has no more after them. */
export interface FoldChunk {
  entries: Array<[key: Uint8Array, value: Uint8Array]>
  done: boolean
}

/**
 * Reads entries of `partition` strictly after `after`, in key order, in one readonly transaction:
 * at most `items`, and no more once `bytes` of keys and values were read.
 */
export async function readChunk(
  db: StorageDatabase,
  partition: number,
  after: Uint8Array | undefined,
  items: number,
  bytes: number,
): Promise<FoldChunk> {
  const entries: Array<[Uint8Array, Uint8Array]> = []
  let read = 0
  const tx = db.transaction(entriesStore, 'readonly')
  let cursor = await tx.store.openCursor(partitionRange(partition, after))
  while (cursor !== null) {
    const key = decodeEntryKey(cursor.key)[1]
    entries.push([key, cursor.value])
    read += key.byteLength + cursor.value.byteLength
    if (entries.length >= items || read >= bytes) return { entries, done: false }
    cursor = await cursor.continue()
  }
  return { entries, done: true }
}
