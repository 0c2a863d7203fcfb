/**
 * Leave-proofing of tight fresh rings. With fewer than 2 · targetN − 1 members left after a leave, the
 * hole a leaver leaves at p is blocked when every other member owns one of the targetN − 1 partitions on
 * either side of p: no member fits there, and filling it costs at least one extra move. A striped ring
 * of 6 or 7 members (targetN 4) blocks a sixth to a half of all its partitions; rings where none is
 * blocked exist (abcdabedfgecfg for 7), so a hill climb over count-preserving, spacing-keeping swaps
 * lowers the number of blocked partitions of a fresh ring, within a work budget, in a fixed order.
 */
import type { ClaimProblem } from './claim-problem.ts'
import { memberNear } from './spacing.ts'

/** Work budget in candidate swaps evaluated. */
const PROOF_BUDGET = 1_500_000
/** Swaps are looked for within this many partitions of a blocked one (or 4 · targetN, if more). */
const REACH = 32

/** Whether a fresh ring of `members` members is worth leave-proofing. */
export function proofable(problem: ClaimProblem, members: number): boolean {
  const n = problem.targetN
  return problem.spacingPossible && members - 1 > n && members - 1 <= 2 * n - 2
}

/** Lowers the blocked partitions of `plan` in place (counts and member spacing kept); returns it. */
export function leaveProof(problem: ClaimProblem, plan: Int32Array, members: number): Int32Array {
  const q = plan.length
  const mask = q - 1
  const n = problem.targetN
  const seen = new Int32Array(members)
  let stampNow = 0
  const touched = new Int32Array(q)
  let touchNow = 0
  const blockedAt = (p: number): number => {
    stampNow++
    const owner = plan[p]!
    let distinct = 0
    for (let d = 1; d < n; d++) {
      for (const x of [(p + d) & mask, (p - d) & mask]) {
        const m = plan[x]!
        if (m === owner || seen[m] === stampNow) continue
        seen[m] = stampNow
        distinct++
      }
    }
    return distinct >= members - 1 ? 1 : 0
  }
  const around = (a: number, b: number): number => {
    touchNow++
    let blocked = 0
    for (let d = -(n - 1); d < n; d++) {
      for (const x of [(a + d) & mask, (b + d) & mask]) {
        if (touched[x] === touchNow) continue
        touched[x] = touchNow
        blocked += blockedAt(x)
      }
    }
    return blocked
  }
  const swap = (a: number, b: number) => {
    const owner = plan[a]!
    plan[a] = plan[b]!
    plan[b] = owner
  }
  // The reach grows (up to the whole ring) whenever a pass finds nothing within it.
  let reach = Math.min(q >> 1, Math.max(REACH, 4 * n))
  let budget = PROOF_BUDGET
  let improved = true
  while (budget > 0) {
    if (!improved) {
      if (reach >= q >> 1) break
      reach = Math.min(q >> 1, reach * 4)
    }
    improved = false
    for (let p = 0; p < q && budget > 0; p++) {
      if (!blockedAt(p)) continue
      search: for (let d = -(n - 1); d < n; d++) {
        const a = (p + d) & mask
        for (let k = -reach; k <= reach; k++) {
          const b = (a + k) & mask
          if (plan[a] === plan[b]) continue
          budget--
          swap(a, b)
          if (memberNear(plan, n, plan[a]!, a) || memberNear(plan, n, plan[b]!, b)) {
            swap(a, b)
            continue
          }
          const after = around(a, b)
          swap(a, b)
          if (after < around(a, b)) {
            swap(a, b)
            improved = true
            break search
          }
        }
      }
    }
  }
  return plan
}
