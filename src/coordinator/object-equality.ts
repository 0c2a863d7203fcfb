/** Structural equality of two KV objects: same actors, counters and sibling values, in order. */
import type { KvObject, KvValue } from '../kv/index.ts'

/** True when `a` and `b` hold the same clock and the same values (objects are kept sorted by actor). */
export function sameObject(a: KvObject, b: KvObject): boolean {
  if (a.entries.length !== b.entries.length) return false
  return a.entries.every((x, i) => {
    const y = b.entries[i]!
    return (
      x.actor === y.actor &&
      x.counter === y.counter &&
      x.values.length === y.values.length &&
      x.values.every((value, j) => sameValue(value, y.values[j]!))
    )
  })
}

function sameValue(a: KvValue, b: KvValue): boolean {
  if (a === null || b === null) return a === b
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}
