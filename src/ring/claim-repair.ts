/**
 * Repair for claim: removes spacing clashes by swapping the owners of two partitions, which keeps every
 * member's count. A swap is kept only when it lowers the clashes around both partitions (member clashes
 * first, then location clashes), so repair never makes a ring worse; the work is bounded.
 */
import type { ClaimProblem } from './claim-problem.ts'
import { locationViolationAt, memberViolationAt } from './spacing.ts'

/** Work budget in candidate swaps examined. */
const REPAIR_BUDGET = 200_000

/** Improves `plan` in place by count-preserving swaps; returns it. */
export function repair(problem: ClaimProblem, plan: Int32Array): Int32Array {
  const q = plan.length
  const mask = q - 1
  const { targetN } = problem
  let budget = REPAIR_BUDGET
  let improved = true
  while (improved && budget > 0) {
    improved = false
    for (let p = 0; p < q && budget > 0; p++) {
      if (!clashes(problem, plan, p)) continue
      // Candidates in ring order after p, at least targetN away on both sides.
      for (let step = targetN; step < q - targetN + 1 && budget > 0; step++) {
        budget--
        const other = (p + step) & mask
        if (plan[other] === plan[p]) continue
        const before = localCost(problem, plan, p, other)
        swap(plan, p, other)
        if (localCost(problem, plan, p, other) < before) {
          improved = true
          break
        }
        swap(plan, p, other)
      }
    }
  }
  return plan
}

function swap(plan: Int32Array, a: number, b: number): void {
  const owner = plan[a]!
  plan[a] = plan[b]!
  plan[b] = owner
}

/** Whether a window ending at p holds a member clash, or a location clash when those can be avoided. */
function clashes(problem: ClaimProblem, plan: Int32Array, p: number): boolean {
  const mask = plan.length - 1
  const { targetN, locations, locationsPossible } = problem
  for (let d = 0; d < targetN; d++) {
    const x = (p - d) & mask
    if (memberViolationAt(plan, targetN, x)) return true
    if (locationsPossible && locationViolationAt(plan, locations, targetN, x)) return true
  }
  return false
}

/**
 * Clashes counted at every partition whose forward window holds a or b (a and b are at least targetN
 * apart, so no window is counted twice): member clashes weigh more than all location clashes together.
 */
function localCost(problem: ClaimProblem, plan: Int32Array, a: number, b: number): number {
  const mask = plan.length - 1
  const { targetN, locations, locationsPossible } = problem
  let cost = 0
  for (let d = 0; d < targetN; d++) {
    for (const x of [(a - d) & mask, (b - d) & mask]) {
      cost += 4 * targetN * memberViolationAt(plan, targetN, x)
      if (locationsPossible) cost += locationViolationAt(plan, locations, targetN, x)
    }
  }
  return cost
}
