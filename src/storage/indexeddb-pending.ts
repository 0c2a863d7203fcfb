/**
 * The writes of one partition whose transaction has not completed yet. A write is visible to reads
 * as soon as it is issued: `get` answers from here first and reaches the database only for keys with
 * no pending write.
 */
import { keyToString } from './key-index.ts'

/** A pending value: the bytes of a pending put, or undefined for a pending delete. */
export interface PendingValue {
  value: Uint8Array | undefined
}

/** Overlay of issued, not yet committed writes of one partition. */
export class PendingWrites {
  readonly #entries = new Map<string, PendingValue & { seq: number }>()
  #clearSeq: number | undefined
  #seq = 0

  /**
   * Records puts (a value) and deletes (undefined) issued together, in order. Returns the function
   * to call once their transaction settled, whether it committed or failed.
   */
  record(changes: ReadonlyArray<[key: Uint8Array, value: Uint8Array | undefined]>): () => void {
    const seq = ++this.#seq
    const ids = changes.map(([key, value]) => {
      const id = keyToString(key)
      this.#entries.set(id, { seq, value })
      return id
    })
    return () => {
      for (const id of ids) if (this.#entries.get(id)?.seq === seq) this.#entries.delete(id)
    }
  }

  /** Records a clear of the whole partition; returns the function to call once it settled. */
  recordClear(): () => void {
    const seq = ++this.#seq
    this.#entries.clear()
    this.#clearSeq = seq
    return () => {
      if (this.#clearSeq === seq) this.#clearSeq = undefined
    }
  }

  /** The pending value of `key`, or undefined when the database holds the current one. */
  lookup(key: Uint8Array): PendingValue | undefined {
    const entry = this.#entries.get(keyToString(key))
    if (entry !== undefined) return entry
    return this.#clearSeq === undefined ? undefined : { value: undefined }
  }
}
