/** Structural equality of two KV objects: same actors, counters and sibling values, in order. */
import type { KvObject, KvValue } from '../kv/index.ts'

/** True when `a` and `b` hold the same clock and the same values (objects are kept sorted by actor). */
export function sameObject(a: KvObject, b: KvObject): boolean {
  if (a === b) return true
  const x = a.entries
  const y = b.entries
  if (x.length !== y.length) return false
  for (let i = 0; i < x.length; i++) {
    const p = x[i]!
    const q = y[i]!
    if (p === q) continue
    if (p.actor !== q.actor || p.counter !== q.counter) return false
    const pv = p.values
    const qv = q.values
    if (pv.length !== qv.length) return false
    for (let j = 0; j < pv.length; j++) if (!sameValue(pv[j]!, qv[j]!)) return false
  }
  return true
}

/** Byte equality of two values (a plain loop: this runs on every read-repair check of a get). */
function sameValue(a: KvValue, b: KvValue): boolean {
  if (a === b) return true
  if (a === null || b === null) return false
  const length = a.length
  if (length !== b.length) return false
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false
  return true
}
