/**
 * Types of the ring: Q fixed partitions of the key space, each owned by one member.
 * Shared by claim, preflists and the cluster state.
 */

/** A member's identity: its libp2p peer id as a string. */
export type MemberId = string

/** An immutable assignment of every partition to its owner. */
export interface Ring {
  /** Q, the number of partitions: a power of two from 8 to 16384. */
  readonly partitionCount: number
  /** `owners[p]` owns partition p. */
  readonly owners: readonly MemberId[]
}

/** A member as claim sees it. */
export interface ClaimMember {
  readonly id: MemberId
  /** Relative weight of the member's share. Default 1. */
  readonly capacity?: number
  /** Failure domain (rack, zone, region); members of one location are kept apart where possible. */
  readonly location?: string
}

/** One entry of a preference list: the partition a replica belongs to and the member that serves it. */
export interface PreflistEntry {
  readonly partition: number
  readonly member: MemberId
  /** `primary`: the partition's owner, up. `fallback`: an up stand-in for a down owner (sloppy quorum). */
  readonly kind: 'primary' | 'fallback'
}

/** What {@link claim} needs to place members on the ring. */
export interface ClaimInit {
  /** Members that claim partitions (owners only; their order does not matter). At least one. */
  readonly members: readonly ClaimMember[]
  /** The current ring, or undefined to claim from scratch. Its owners that are not in `members` leave. */
  readonly ring?: Ring
  /** Replicas per key to keep apart: no member (nor location) twice in any `targetN` consecutive partitions. */
  readonly targetN: number
  /** Q. Must equal `ring.partitionCount` when a ring is given. */
  readonly partitionCount: number
}

/** Spacing violations of a ring: partitions whose owner (or location) reappears within the next targetN − 1. */
export interface Violations {
  /** Partitions p whose owner also owns one of p+1 … p+targetN−1 (wrapping). */
  readonly spacing: number
  /** Partitions p whose owner's location also owns one of p+1 … p+targetN−1 (members with a location only). */
  readonly location: number
}

/** One partition changing hands. `from` is undefined when the partition had no owner. */
export interface Transfer {
  readonly partition: number
  readonly from: MemberId | undefined
  readonly to: MemberId
}

/** The effect of going from one ring to another, reported before anything moves. */
export interface PlanReport {
  /** Number of partitions whose owner changes. */
  readonly moves: number
  /** Those partitions, in partition order. */
  readonly transfers: readonly Transfer[]
  /** Partitions each member owns before (members absent before are absent here). */
  readonly ownedBefore: ReadonlyMap<MemberId, number>
  /** Partitions each member owns after. */
  readonly ownedAfter: ReadonlyMap<MemberId, number>
  /** Violations of the ring after the change. */
  readonly violations: Violations
}

/** What {@link claim} returns. */
export interface ClaimResult {
  readonly ring: Ring
  /** Moves, balance and violations of the new ring against the given one. */
  readonly report: PlanReport
  /** The number of partitions each member was meant to own (its floor or ceil of its weighted share). */
  readonly targets: ReadonlyMap<MemberId, number>
}
