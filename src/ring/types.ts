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
