/**
 * Fresh arrangements for claim (from scratch, or as the fallback when the incremental result keeps
 * clashes): a stripe, repaired, and for small rings chosen among a few seeded candidates to be
 * leave-robust. With fewer members than targetN, a gapped targetN-stripe (see {@link stripeFew}).
 *
 * Leave-robust: in a small ring (few members, targetN close to M / 2), the hole a leaver leaves at p can
 * only be filled by members that own none of the targetN − 1 partitions on either side of p, often just
 * one or two. Whether every hole finds a distinct filler, so that a leave moves exactly the leaver's
 * partitions, depends on the arrangement; a perfect stripe is the worst case (every hole has the same
 * single candidate). Larger rings have enough candidates per hole, smaller ones (M < 2 · targetN) too
 * few for tie orders to help (see below). So when 2 · targetN ≤ M ≤ 3 · targetN and Q · M² ≤ 2^17, we
 * build up to 32 stripes with different tie orders and keep the first for which every single leave fills
 * cleanly, else the one with the fewest leaves that do not. Whatever the size, a stripe the greedy could
 * not space is retried with other tie orders (up to 32 when small, 4 when large).
 *
 * Below 2 · targetN members (targetN + 2 to 2 · targetN − 1: 6 or 7 at targetN 4) a stripe blocks a
 * sixth to a half of every leaver's holes (every other member owns a partition within targetN − 1, so
 * none fits), and tie orders change that little. There the chosen stripe is hill-climbed
 * ({@link leaveProof}) until few or none are: a leave 7 → 6 then moves only the leaver's partitions.
 */
import type { CeilClasses } from './claim-fill.ts'
import { fill } from './claim-fill.ts'
import type { ClaimProblem } from './claim-problem.ts'
import { leaveProof, proofable } from './claim-proof.ts'
import { repair } from './claim-repair.ts'
import { mix32, stripe, stripeFew } from './claim-stripe.ts'
import { countViolations } from './spacing.ts'

/** Seeded candidates tried when leave-proofing. */
const CANDIDATES = 32
/** Leave-proofing runs when Q · M² is at most this. */
const PROOFING_LIMIT = 2 ** 17

/** Targets and ceil classes of the members left after one leaves (the leaver's target is 0). */
export type LeaveTargets = (leaver: number) => { targets: readonly number[]; classes: CeilClasses }

/** A fresh plan where member i owns `targets[i]` partitions; leave-robust when `afterLeave` is given and cheap. */
export function freshPlan(
  problem: ClaimProblem,
  targets: readonly number[],
  seeds: Uint32Array,
  afterLeave?: LeaveTargets,
): Int32Array {
  const members = targets.length
  if (members < problem.targetN) return stripeFew(problem, targets)
  const build = (salt: number): Int32Array => {
    const salted = salt === 0 ? seeds : seeds.map((s) => mix32(s ^ Math.imul(salt, 0x9e3779b9)))
    const plan = stripe(problem, targets, salted)
    return problem.spacingPossible ? repair(problem, plan) : plan
  }
  const small = problem.partitionCount * members * members <= PROOFING_LIMIT
  const proof =
    afterLeave !== undefined &&
    small &&
    members >= 2 * problem.targetN &&
    members <= 3 * problem.targetN
  let best = build(0)
  let bestScore = score(problem, best, proof ? afterLeave : undefined)
  for (let salt = 1; salt < (small ? CANDIDATES : 4) && bestScore > 0; salt++) {
    const plan = build(salt)
    const planScore = score(problem, plan, proof ? afterLeave : undefined)
    if (planScore < bestScore) {
      best = plan
      bestScore = planScore
    }
  }
  if (
    proofable(problem, members) &&
    countViolations(best, problem.locations, problem.targetN).spacing === 0
  ) {
    leaveProof(problem, best, members)
  }
  return best
}

/** Lower is better: clashes weigh more than any number of bad leaves; 0 is perfect. */
function score(
  problem: ClaimProblem,
  plan: Int32Array,
  afterLeave: LeaveTargets | undefined,
): number {
  if (!problem.spacingPossible) return 0
  const left = countViolations(plan, problem.locations, problem.targetN)
  const locationClashes = problem.locationsPossible ? left.location : 0
  const clashes =
    left.spacing * (problem.partitionCount + 1) ** 2 +
    locationClashes * (problem.partitionCount + 1)
  if (clashes > 0 || afterLeave === undefined) return clashes
  return badLeaves(problem, plan, afterLeave)
}

/** How many single-member leaves from `plan` cannot be filled cleanly moving the leaver's partitions only. */
function badLeaves(problem: ClaimProblem, plan: Int32Array, afterLeave: LeaveTargets): number {
  let bad = 0
  for (let leaver = 0; leaver < problem.locations.length; leaver++) {
    const current = plan.map((m) => (m === leaver ? -1 : m))
    const { targets, classes } = afterLeave(leaver)
    const filled = fill(problem, current, targets, classes, false).plan
    const left = countViolations(filled, problem.locations, problem.targetN)
    if (left.spacing + (problem.locationsPossible ? left.location : 0) > 0) bad++
  }
  return bad
}
