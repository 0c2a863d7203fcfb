/**
 * Group commit for IndexedDB: writes issued while no transaction is being committed are gathered
 * until the end of the current microtask window, writes issued while one is being committed wait for
 * it, and each group goes to the database as one readwrite transaction. A group that holds a durable
 * write commits with `durability: 'strict'`, any other with `'relaxed'`; every write of a group
 * settles when its transaction completes. Transactions on one store run in creation order, so writes
 * apply in the order they were issued.
 */
import { unwrap } from 'idb'
import { StorageError } from '../core/errors.ts'
import { type EntryKey, entriesStore, type StorageDatabase } from './indexeddb-schema.ts'

/** One change a group applies, in IndexedDB terms. */
export type EntryWrite =
  | { type: 'put'; key: EntryKey; value: Uint8Array }
  | { type: 'delete'; key: EntryKey }
  | { type: 'deleteRange'; range: IDBKeyRange }

interface Group {
  writes: EntryWrite[]
  durable: boolean
  promise: Promise<void>
  resolve: () => void
  reject: (error: Error) => void
}

/** Commits writes to one database in as few transactions as the durability promise allows. */
export class GroupCommitWriter {
  readonly #db: IDBDatabase
  #gathering: Group | undefined
  #committing = false
  #last: Promise<void> = Promise.resolve()

  constructor(db: StorageDatabase) {
    this.#db = unwrap(db)
  }

  /**
   * Queues `writes` (applied together, in order, in one transaction) and resolves once that
   * transaction completed; with `durable`, a strict one. Rejects with `StorageError` when it failed,
   * which fails every write of its group.
   */
  write(writes: readonly EntryWrite[], durable: boolean): Promise<void> {
    let group = this.#gathering
    if (group === undefined) {
      group = newGroup()
      this.#gathering = group
      this.#last = group.promise.catch(() => {})
      if (!this.#committing) {
        this.#committing = true
        queueMicrotask(() => this.#commitNext())
      }
    }
    for (const w of writes) group.writes.push(w)
    group.durable ||= durable
    return group.promise
  }

  /** Resolves once every write queued so far has settled, whatever its outcome. */
  settled(): Promise<void> {
    return this.#last
  }

  #commitNext(): void {
    const group = this.#gathering
    this.#gathering = undefined
    if (group === undefined) {
      this.#committing = false
      return
    }
    this.#commit(group).then(
      () => group.resolve(),
      (cause) => group.reject(new StorageError('IndexedDB write transaction failed', { cause })),
    )
    group.promise.finally(() => this.#commitNext()).catch(() => {})
  }

  async #commit(group: Group): Promise<void> {
    const tx = this.#db.transaction(entriesStore, 'readwrite', {
      durability: group.durable ? 'strict' : 'relaxed',
    })
    const done = transactionDone(tx)
    try {
      const store = tx.objectStore(entriesStore)
      for (const w of group.writes) {
        if (w.type === 'put') store.put(w.value, w.key)
        else if (w.type === 'delete') store.delete(w.key)
        else store.delete(w.range)
      }
    } catch (cause) {
      tx.abort()
      await done.catch(() => {})
      throw cause
    }
    await done
  }
}

function newGroup(): Group {
  let resolve!: () => void
  let reject!: (error: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { writes: [], durable: false, promise, resolve, reject }
}

/** Resolves when `tx` completes; rejects with its error (or an `AbortError`) when it aborts. */
function transactionDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'))
  })
}
