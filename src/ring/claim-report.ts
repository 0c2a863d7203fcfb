/**
 * Plan reports: what going from one ring to another costs and leaves behind, computed before anything
 * moves (riak_core's `riak-admin cluster plan` output). Used by claim and by membership's plan/commit.
 */
import { InvalidArgumentError } from '../core/index.ts'
import { ownedCounts } from './ring.ts'
import { countViolations } from './spacing.ts'
import type { ClaimMember, MemberId, PlanReport, Ring, Transfer, Violations } from './types.ts'

/** Options of {@link planReport}. */
export interface PlanReportInit {
  /** Spacing window for the violation counts. */
  readonly targetN: number
  /** Members with their locations, for location violations. Default: none has a location. */
  readonly members?: readonly ClaimMember[]
}

/**
 * Moves, per-member owned counts and violations of going from `before` (undefined: an empty ring, every
 * partition moves) to `after`. Throws {@link InvalidArgumentError} when the rings differ in size.
 */
export function planReport(
  before: Ring | undefined,
  after: Ring,
  init: PlanReportInit,
): PlanReport {
  const q = after.partitionCount
  if (before !== undefined && before.partitionCount !== q) {
    throw new InvalidArgumentError(`rings differ in size: ${before.partitionCount} and ${q}`)
  }
  const transfers: Transfer[] = []
  for (let p = 0; p < q; p++) {
    const from = before?.owners[p]
    const to = after.owners[p]!
    if (from !== to) transfers.push({ partition: p, from, to })
  }
  return {
    moves: transfers.length,
    transfers,
    ownedBefore: before === undefined ? new Map() : ownedCounts(before),
    ownedAfter: ownedCounts(after),
    violations: ringViolations(after, init),
  }
}

/** Spacing and location violations of `ring` (see {@link Violations}). */
export function ringViolations(ring: Ring, init: PlanReportInit): Violations {
  const index = new Map<MemberId, number>()
  const locationOf = new Map<MemberId, string>()
  for (const m of init.members ?? []) if (m.location !== undefined) locationOf.set(m.id, m.location)
  const locationIds = new Map<string, number>()
  const memberLocations: number[] = []
  const plan = Int32Array.from(ring.owners, (owner) => {
    let m = index.get(owner)
    if (m === undefined) {
      m = index.size
      index.set(owner, m)
      const location = locationOf.get(owner)
      if (location !== undefined && !locationIds.has(location))
        locationIds.set(location, locationIds.size)
      memberLocations.push(location === undefined ? -1 : locationIds.get(location)!)
    }
    return m
  })
  return countViolations(plan, Int32Array.from(memberLocations), init.targetN)
}
