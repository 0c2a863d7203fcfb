/**
 * The ring value: Q equal partitions of the 2^32 key space, partition p covering positions
 * [p · 2^32/Q, (p+1) · 2^32/Q). A key's partition is the top log2(Q) bits of its position, so owner lookup
 * is one shift and one array read (riak_core's `chash`, with fixed-size partitions).
 */
import { InvalidArgumentError } from '../core/index.ts'
import { hashKey, KEYSPACE_BITS, type KeyPart } from './hash.ts'
import type { MemberId, Ring } from './types.ts'

/** Smallest supported partition count. */
export const MIN_PARTITIONS = 8
/** Largest supported partition count. */
export const MAX_PARTITIONS = 16384

/** log2(Q), after checking that Q is a power of two in [8, 16384]; throws {@link InvalidArgumentError} otherwise. */
export function partitionBits(partitionCount: number): number {
  if (
    !Number.isInteger(partitionCount) ||
    partitionCount < MIN_PARTITIONS ||
    partitionCount > MAX_PARTITIONS ||
    (partitionCount & (partitionCount - 1)) !== 0
  ) {
    throw new InvalidArgumentError(
      `partition count must be a power of two from ${MIN_PARTITIONS} to ${MAX_PARTITIONS}, got ${partitionCount}`,
    )
  }
  return 31 - Math.clz32(partitionCount)
}

/** An immutable ring from its owners, one per partition; throws {@link InvalidArgumentError} if Q is invalid. */
export function createRing(owners: readonly MemberId[]): Ring {
  partitionBits(owners.length)
  return Object.freeze({ partitionCount: owners.length, owners: Object.freeze([...owners]) })
}

/** The partition of `partitionCount` that holds ring position `position` (an unsigned 32-bit integer). */
export function partitionOfPosition(position: number, partitionCount: number): number {
  return position >>> (KEYSPACE_BITS - partitionBits(partitionCount))
}

/** The partition that holds `key` of `bucket` on `ring`. */
export function keyPartition(ring: Ring, bucket: KeyPart, key: KeyPart): number {
  // Q = 2^b was checked when the ring was made; the shift 32 − b is 1 + clz32(Q).
  return hashKey(bucket, key) >>> (1 + Math.clz32(ring.partitionCount))
}

/** The owner of `partition`; throws {@link InvalidArgumentError} when the partition is out of range. */
export function ownerOf(ring: Ring, partition: number): MemberId {
  const owner = Number.isInteger(partition) ? ring.owners[partition] : undefined
  if (owner === undefined) {
    throw new InvalidArgumentError(`partition ${partition} is not in [0, ${ring.partitionCount})`)
  }
  return owner
}

/** How many partitions each member of `ring` owns. */
export function ownedCounts(ring: Ring): Map<MemberId, number> {
  const counts = new Map<MemberId, number>()
  for (const owner of ring.owners) counts.set(owner, (counts.get(owner) ?? 0) + 1)
  return counts
}
