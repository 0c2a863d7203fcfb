/**
 * An in-memory index from byte keys to entries that iterates in unsigned byte order. Keys are held
 * as latin1 strings (one UTF-16 code unit per byte), whose native string order is exactly unsigned
 * byte order; the sorted key list is rebuilt lazily, only after a key was added or removed.
 */

/** The latin1 string of `key`: one code unit per byte, so string order is unsigned byte order. */
export function keyToString(key: Uint8Array): string {
  if (key.length <= APPLY_CHUNK) return String.fromCharCode.apply(null, key as unknown as number[])
  let s = ''
  for (let i = 0; i < key.length; i += APPLY_CHUNK) {
    s += String.fromCharCode.apply(null, key.subarray(i, i + APPLY_CHUNK) as unknown as number[])
  }
  return s
}

/** Bytes converted per `String.fromCharCode.apply` call, well below engines' argument limits. */
const APPLY_CHUNK = 4096

/** The bytes of a string made by {@link keyToString}. */
export function stringToKey(s: string): Uint8Array {
  const key = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) key[i] = s.charCodeAt(i)
  return key
}

/** A map from keys (as {@link keyToString} strings) to entries, with ordered range scans. */
export class KeyIndex<V> {
  readonly #entries = new Map<string, V>()
  #sorted: string[] | undefined = []

  /** Number of keys. */
  get count(): number {
    return this.#entries.size
  }

  get(key: string): V | undefined {
    return this.#entries.get(key)
  }

  /** Stores `entry` under `key` and returns the entry it replaced. */
  set(key: string, entry: V): V | undefined {
    const previous = this.#entries.get(key)
    if (previous === undefined) this.#sorted = undefined
    this.#entries.set(key, entry)
    return previous
  }

  /** Removes `key` and returns its entry. */
  delete(key: string): V | undefined {
    const previous = this.#entries.get(key)
    if (previous !== undefined) {
      this.#entries.delete(key)
      this.#sorted = undefined
    }
    return previous
  }

  clear(): void {
    this.#entries.clear()
    this.#sorted = []
  }

  /** Every entry, in no particular order. */
  values(): IterableIterator<V> {
    return this.#entries.values()
  }

  /**
   * Keys strictly after `after` (all keys when undefined) in ascending order. The walk runs over a
   * snapshot of the key list: keys added meanwhile are not visited, and the caller must look each
   * visited key up again, as it may have been removed since.
   */
  *keysAfter(after: string | undefined): Generator<string> {
    const sorted = this.#sortedKeys()
    let i = 0
    if (after !== undefined) {
      let hi = sorted.length
      while (i < hi) {
        const mid = (i + hi) >>> 1
        if (sorted[mid]! <= after) i = mid + 1
        else hi = mid
      }
    }
    for (; i < sorted.length; i++) yield sorted[i]!
  }

  #sortedKeys(): string[] {
    this.#sorted ??= [...this.#entries.keys()].sort()
    return this.#sorted
  }
}
