/**
 * Preference lists (riak_core_apl): the n partitions that hold a key's replicas and the members that
 * serve them right now. Primaries are the owners of the key's partition and the n − 1 partitions after
 * it; an owner that is down is replaced by a fallback, the owner of the next partition further round the
 * ring that is up and not already in the list (sloppy quorum; the fallback keeps a hint for the owner).
 */
import { InvalidArgumentError } from '../core/index.ts'
import type { KeyPart } from './hash.ts'
import { keyPartition } from './ring.ts'
import type { MemberId, PreflistEntry, Ring } from './types.ts'

/** A key, or a partition index when the caller already knows it. */
export type PreflistTarget = number | { readonly bucket: KeyPart; readonly key: KeyPart }

/**
 * The preference list of `target` on `ring`, in ring order: entry i serves partition (start + i) mod Q.
 * Up owners are `primary`; each down owner is replaced by the next up member round the ring that is not in
 * the list yet (`fallback`), so no member appears twice while enough members are up, unless the ring itself
 * places one owner twice within n. When too few distinct members are up, members repeat on distinct
 * fallback partitions, as in riak_core; when none is up, down entries are left out (the list is shorter).
 * `n` must be an integer in [1, Q]. `isUp` is called once per primary and once per distinct fallback candidate.
 */
export function preflist(
  ring: Ring,
  target: PreflistTarget,
  n: number,
  isUp: (member: MemberId) => boolean,
): PreflistEntry[] {
  const q = ring.partitionCount
  if (!Number.isInteger(n) || n < 1 || n > q) {
    throw new InvalidArgumentError(`n must be an integer in [1, ${q}], got ${n}`)
  }
  const start =
    typeof target === 'number'
      ? checkPartition(target, q)
      : keyPartition(ring, target.bucket, target.key)
  const mask = q - 1
  const owners = ring.owners
  const entries: PreflistEntry[] = []
  let down: number[] | undefined
  for (let i = 0; i < n; i++) {
    const partition = (start + i) & mask
    const member = owners[partition]!
    if (isUp(member)) {
      entries.push({ partition, member, kind: 'primary' })
    } else {
      if (down === undefined) down = []
      down.push(partition)
    }
  }
  if (down === undefined) return entries
  return fillFallbacks(ring, start, n, entries, down, isUp)
}

function checkPartition(partition: number, q: number): number {
  if (!Number.isInteger(partition) || partition < 0 || partition >= q) {
    throw new InvalidArgumentError(`partition ${partition} is not in [0, ${q})`)
  }
  return partition
}

/** Replaces each down primary with the next suitable up owner beyond the first n partitions. */
function fillFallbacks(
  ring: Ring,
  start: number,
  n: number,
  primaries: PreflistEntry[],
  down: number[],
  isUp: (member: MemberId) => boolean,
): PreflistEntry[] {
  const q = ring.partitionCount
  const mask = q - 1
  const used = new Set(primaries.map((e) => e.member))
  const upCache = new Map<MemberId, boolean>()
  const up = (member: MemberId): boolean => {
    let known = upCache.get(member)
    if (known === undefined) {
      known = isUp(member)
      upCache.set(member, known)
    }
    return known
  }
  const taken = new Set<number>()
  const fallbacks = new Map<number, PreflistEntry>()
  // First round: distinct members only. Second round: any up member, each on a partition not taken yet.
  for (const distinct of [true, false]) {
    let cursor = n
    for (const partition of down) {
      if (fallbacks.has(partition)) continue
      for (; cursor < q; cursor++) {
        const candidatePartition = (start + cursor) & mask
        const member = ring.owners[candidatePartition]!
        if (taken.has(candidatePartition) || !up(member) || (distinct && used.has(member))) continue
        taken.add(candidatePartition)
        used.add(member)
        fallbacks.set(partition, { partition, member, kind: 'fallback' })
        cursor++
        break
      }
    }
  }
  const entries: PreflistEntry[] = []
  let next = 0
  for (let i = 0; i < n; i++) {
    const partition = (start + i) & mask
    const primary = primaries[next]
    if (primary !== undefined && primary.partition === partition) {
      entries.push(primary)
      next++
    } else {
      const fallback = fallbacks.get(partition)
      if (fallback !== undefined) entries.push(fallback)
    }
  }
  return entries
}
