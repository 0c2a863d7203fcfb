/**
 * A version vector: for each actor, how many of its events a replica has seen. Merged by pointwise
 * maximum, so it is itself a CRDT. The cluster state carries one (actors are members), and so does
 * every causal context of a {@link DvvSet} (actors are vnode incarnations). Entries are sorted by actor
 * id and never zero.
 */
export type VersionVector = readonly (readonly [actor: string, counter: number])[]

/** How two version vectors relate. */
export type VectorOrder = 'equal' | 'before' | 'after' | 'concurrent'

/** The empty vector: no changes seen. */
export const emptyVector: VersionVector = []

/** `vector` with `actor`'s counter raised by one: the record of one more change made by `actor`. */
export function bump(vector: VersionVector, actor: string): VersionVector {
  const next = new Map(vector)
  next.set(actor, (next.get(actor) ?? 0) + 1)
  return fromMap(next)
}

/** Pointwise maximum: every change either vector has seen. Commutative, associative, idempotent. */
export function mergeVectors(a: VersionVector, b: VersionVector): VersionVector {
  const next = new Map(a)
  for (const [actor, counter] of b) next.set(actor, Math.max(next.get(actor) ?? 0, counter))
  return fromMap(next)
}

/** Whether `a` has seen fewer, more, the same, or different changes than `b`. */
export function compareVectors(a: VersionVector, b: VersionVector): VectorOrder {
  const left = new Map(a)
  const right = new Map(b)
  let less = false
  let more = false
  for (const actor of new Set([...left.keys(), ...right.keys()])) {
    const x = left.get(actor) ?? 0
    const y = right.get(actor) ?? 0
    if (x < y) less = true
    if (x > y) more = true
  }
  if (less && more) return 'concurrent'
  if (less) return 'before'
  if (more) return 'after'
  return 'equal'
}

function fromMap(map: ReadonlyMap<string, number>): VersionVector {
  return [...map]
    .filter(([, counter]) => counter > 0)
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
}
