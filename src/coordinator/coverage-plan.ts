/**
 * Coverage plans (riak_core_coverage_plan): the fewest vnodes that together hold every key once, for a
 * query over the whole keyspace such as listing a bucket's keys. With n replicas, the vnode of partition
 * v holds the keys whose preflist starts at v − n + 1 … v, so every n-th vnode covers the ring; when n
 * does not divide Q, or a vnode's owner is down, some chosen vnode also holds keys another one already
 * answers for, and gets a {@link KeyFilter} restricting it to the rest, so no key is counted twice.
 *
 * The plan is a greedy cover of the circle of key partitions by arcs of length n (one arc per vnode
 * whose owner is up): from a start, take the vnode reaching furthest that still covers the first
 * uncovered key partition. Trying the n starts of one arc finds a plan of the fewest vnodes. Only
 * primaries count: a fallback holds only the writes of the time its primary was down.
 */
import type { MemberId, Ring } from '../ring/index.ts'
import type { KeyFilter } from '../vnode/index.ts'

/** One vnode of a coverage plan. */
export interface CoverageVnode {
  /** The vnode's partition. */
  readonly partition: number
  /** Its owner, up. */
  readonly member: MemberId
  /** Restricts its answer to some key partitions; undefined when it answers for all n it holds. */
  readonly keyFilter: KeyFilter | undefined
}

/** A coverage plan, or the key partitions no up vnode holds. */
export type CoveragePlan =
  | { readonly kind: 'plan'; readonly vnodes: readonly CoverageVnode[] }
  | { readonly kind: 'uncovered'; readonly partitions: readonly number[] }

/**
 * The coverage plan of `ring` for keys replicated `n` times, using vnodes whose owner `isUp`. `n` must
 * be an integer in [1, Q] (the caller validates it). Deterministic for the same inputs.
 */
export function coveragePlan(
  ring: Ring,
  n: number,
  isUp: (member: MemberId) => boolean,
): CoveragePlan {
  const q = ring.partitionCount
  const up = ring.owners.map((owner) => isUp(owner))
  const uncovered: number[] = []
  for (let k = 0; k < q; k++) {
    let held = false
    for (let i = 0; i < n && !held; i++) held = up[(k + i) % q]!
    if (!held) uncovered.push(k)
  }
  if (uncovered.length > 0) return { kind: 'uncovered', partitions: uncovered }
  let best: CoverageVnode[] | undefined
  for (let start = 0; start < n; start++) {
    const vnodes = greedyCover(ring, n, up, start)
    if (best === undefined || vnodes.length < best.length) best = vnodes
  }
  return { kind: 'plan', vnodes: best! }
}

/** The greedy cover starting at key partition `start`; every key partition has an up holder. */
function greedyCover(
  ring: Ring,
  n: number,
  up: readonly boolean[],
  start: number,
): CoverageVnode[] {
  const q = ring.partitionCount
  const vnodes: CoverageVnode[] = []
  // `next` counts key partitions covered so far, from `start`.
  for (let next = 0; next < q; ) {
    let reach = next + n - 1
    while (!up[(start + reach) % q]) reach--
    const partition = (start + reach) % q
    const assigned: number[] = []
    for (let k = next; k <= Math.min(reach, q - 1); k++) assigned.push((start + k) % q)
    const keyFilter =
      assigned.length === n
        ? undefined
        : { partitionCount: q, partitions: assigned.sort((a, b) => a - b) }
    vnodes.push({ partition, member: ring.owners[partition]!, keyFilter })
    next = reach + 1
  }
  return vnodes
}
