/**
 * The compliance-suite harness of {@link IndexedDbStorage}: every case gets a database of its own,
 * deleted at teardown. Used by the Node run (fake-indexeddb) and by the browser page (Chromium).
 */
import { deleteDB } from 'idb'
import { IndexedDbStorage, type IndexedDbStorageInit } from '../../src/storage/indexeddb.ts'
import type { HarnessSetup } from './compliance-cases.ts'

/** A setup that opens a fresh database named `<prefix>/<n>` per case, with `init`'s other options. */
export function indexedDbSetup(
  prefix: string,
  init: Omit<IndexedDbStorageInit, 'name' | 'limits'> = {},
): HarnessSetup {
  let next = 0
  return async (options) => {
    const name = `${prefix}/${next++}`
    const opened: IndexedDbStorage[] = []
    const open = async () => {
      const storage = await IndexedDbStorage.open({ ...init, name, limits: options?.limits })
      opened.push(storage)
      return storage
    }
    return {
      storage: await open(),
      reopen: open,
      teardown: async () => {
        await Promise.all(opened.map((s) => s.close()))
        await deleteDB(name)
      },
    }
  }
}
