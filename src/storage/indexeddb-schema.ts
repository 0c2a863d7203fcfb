/**
 * Layout of a node's IndexedDB database: one object store, `entries`, keyed by the compound key
 * `[partition, keyBytes]`. IndexedDB orders array keys element by element and binary keys bytewise
 * (unsigned), so one partition is one contiguous key range in unsigned byte order of its keys: a fold
 * is a cursor over that range, `clear()` is one range delete, and the partitions present are found by
 * skipping from range to range.
 */
import type { DBSchema, IDBPDatabase } from 'idb'
import { copyBytes } from '../core/bytes.ts'

/** Schema version of the database; bump with a migration in {@link upgradeSchema}. */
export const schemaVersion = 1

/** The object store that holds every partition's entries. */
export const entriesStore = 'entries'

/** Key of one entry: its partition, then its key bytes. */
export type EntryKey = [partition: number, key: ArrayBuffer]

/** The typed schema `idb` checks calls against. */
export interface StorageSchema extends DBSchema {
  entries: { key: EntryKey; value: Uint8Array }
}

/** A database handle of this schema. */
export type StorageDatabase = IDBPDatabase<StorageSchema>

/** Creates the object store of a new database (the `upgrade` callback of `openDB`). */
export function upgradeSchema(db: StorageDatabase, oldVersion: number): void {
  if (oldVersion < 1) db.createObjectStore(entriesStore)
}

/** The IndexedDB key of `key` in `partition`; copies the bytes so later changes to `key` do not leak in. */
export function entryKey(partition: number, key: Uint8Array): EntryKey {
  return [partition, copyBytes(key).buffer]
}

/**
 * The keys of `partition`, optionally strictly after `after`. `[p]` sorts before every `[p, bytes]`
 * (a prefix sorts first) and `[p + 1]` after all of them.
 */
export function partitionRange(partition: number, after?: Uint8Array): IDBKeyRange {
  const lower = after === undefined ? [partition] : entryKey(partition, after)
  return IDBKeyRange.bound(lower, [partition + 1], after !== undefined, true)
}

/** The partition and key bytes of a stored key. */
export function decodeEntryKey(key: IDBValidKey): [partition: number, key: Uint8Array] {
  const [partition, bytes] = key as EntryKey
  return [partition, new Uint8Array(bytes)]
}
