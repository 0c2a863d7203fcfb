/** The shape of one claim problem, shared by the claim phases. Members are indices 0 … M−1. */
export interface ClaimProblem {
  /** Q. */
  readonly partitionCount: number
  /** Spacing window. */
  readonly targetN: number
  /** Location index of each member, −1 for none. */
  readonly locations: Int32Array
  /** Number of distinct locations. */
  readonly locationCount: number
  /**
   * Whether a spaced arrangement may exist (M ≥ targetN and no target above Q / targetN); repair is
   * skipped otherwise.
   */
  readonly spacingPossible: boolean
  /**
   * Whether location spacing may be possible (at least targetN location groups, counting each member
   * without a location as its own, and no location above Q / targetN). When not, claim ignores locations
   * and only reports their violations.
   */
  readonly locationsPossible: boolean
}
