/**
 * Polish for claim: a deterministic tabu search over count-preserving swaps that removes the clashes
 * repair could not, paying as few extra moves as it can, then takes back moves that are not needed.
 *
 * Tight rings (fewer than 2 · targetN members) leave a leaver's holes with no member that fits, and a
 * single improving swap often does not exist: the clashing member must go where it fits, and whoever it
 * displaces may clash in turn (an ejection chain). Each step therefore swaps a clashing partition with
 * one where its owner fits, choosing the swap that lowers (member clashes, location clashes, moves) the
 * most, even when none lowers it; recently undone placements are tabu, so the walk does not cycle, and
 * the best plan seen is kept. Once no clash is left, swaps that give partitions back to their current
 * owners without adding a clash remove moves. Everything is bounded by a work budget, and the order is
 * fixed (partition order, first best wins), so the result is a function of the inputs.
 */
import type { ClaimProblem } from './claim-problem.ts'
import { locationViolationAt, memberNear, memberViolationAt } from './spacing.ts'

/** Work budget in candidate swaps evaluated. */
const POLISH_BUDGET = 3_000_000
/** Sweeps after which the walk gives up when it has not improved on the best plan. */
const PATIENCE = 400
/** Steps during which a member may not return to a partition it was moved away from. */
const TENURE = 9
/** Swaps are looked for within this many partitions of a clash (or 4 · targetN, if more). */
const REACH = 48

/** Improves `plan` (counts kept) against `current` (−1 for holes); returns the best plan found. */
export function polish(problem: ClaimProblem, plan: Int32Array, current: Int32Array): Int32Array {
  const search = new Polish(problem, plan.slice(), current)
  search.removeClashes()
  search.removeMoves()
  return search.best
}

class Polish {
  best: Int32Array
  private readonly plan: Int32Array
  private readonly current: Int32Array
  private readonly problem: ClaimProblem
  private readonly memberWeight: number
  private readonly locationWeight: number
  private readonly stamp: Int32Array
  private stampNow = 0
  private budget = POLISH_BUDGET
  private cost: number
  private bestCost: number

  constructor(problem: ClaimProblem, plan: Int32Array, current: Int32Array) {
    const q = plan.length
    this.problem = problem
    this.plan = plan
    this.current = current
    this.locationWeight = problem.locationsPossible ? q + 1 : 0
    this.memberWeight = (q + 1) * (q + 1)
    this.stamp = new Int32Array(q)
    this.cost = this.total()
    this.best = plan.slice()
    this.bestCost = this.cost
  }

  /** (member clashes, location clashes, moves) as one number, lexicographically weighted. */
  private total(): number {
    let cost = 0
    for (let p = 0; p < this.plan.length; p++) cost += this.at(p) + this.moved(p)
    return cost
  }

  private at(p: number): number {
    const { targetN, locations } = this.problem
    let cost = this.memberWeight * memberViolationAt(this.plan, targetN, p)
    if (this.locationWeight > 0) {
      cost += this.locationWeight * locationViolationAt(this.plan, locations, targetN, p)
    }
    return cost
  }

  private moved(p: number): number {
    return this.plan[p] !== this.current[p] ? 1 : 0
  }

  /** Cost of the windows holding a or b, and of the moves at a and b. */
  private local(a: number, b: number): number {
    const mask = this.plan.length - 1
    const n = this.problem.targetN
    this.stampNow++
    let cost = this.moved(a) + this.moved(b)
    for (let d = 0; d < n; d++) {
      for (const x of [(a - d) & mask, (b - d) & mask]) {
        if (this.stamp[x] === this.stampNow) continue
        this.stamp[x] = this.stampNow
        cost += this.at(x)
      }
    }
    return cost
  }

  private swap(a: number, b: number): void {
    const owner = this.plan[a]!
    this.plan[a] = this.plan[b]!
    this.plan[b] = owner
  }

  /** Change in cost if a and b swapped owners. */
  private delta(a: number, b: number): number {
    this.budget--
    const before = this.local(a, b)
    this.swap(a, b)
    const after = this.local(a, b)
    this.swap(a, b)
    return after - before
  }

  /** Whether the owner of p clashes with a partition of its own or, where it counts, of its location. */
  private clashing(p: number): boolean {
    const mask = this.plan.length - 1
    const { targetN: n, locations } = this.problem
    const owner = this.plan[p]!
    if (owner < 0) return false
    if (memberNear(this.plan, n, owner, p)) return true
    if (this.locationWeight === 0 || locations[owner]! < 0) return false
    for (let d = 1; d < n; d++) {
      for (const x of [(p + d) & mask, (p - d) & mask]) {
        const other = this.plan[x]!
        if (other >= 0 && locations[other] === locations[owner]) return true
      }
    }
    return false
  }

  /** The tabu walk (see the module comment). */
  removeClashes(): void {
    const q = this.plan.length
    const mask = q - 1
    const members = this.problem.locations.length
    const reach = Math.min(q >> 1, Math.max(REACH, 4 * this.problem.targetN))
    const tabu = new Map<number, number>()
    let clashes: number[] = []
    for (let p = 0; p < q; p++) if (this.clashing(p)) clashes.push(p)
    let stale = 0
    for (let step = 0; clashes.length > 0 && this.budget > 0 && stale <= PATIENCE; step++) {
      // One sweep: each clashing partition takes its best local swap when that lowers the cost; the
      // best swap of the sweep is taken anyway when none does (a step of the tabu walk).
      let improved = false
      let bestA = -1
      let bestB = -1
      let bestDelta = Number.POSITIVE_INFINITY
      const touched: number[] = []
      for (const a of clashes) {
        if (this.budget <= 0) break
        if (!this.clashing(a)) continue
        const owner = this.plan[a]!
        let localB = -1
        let localDelta = Number.POSITIVE_INFINITY
        for (let k = -reach; k <= reach; k++) {
          const b = (a + k) & mask
          const other = this.plan[b]!
          if (other === owner || !this.fitsAfterLeaving(owner, b, a)) continue
          const d = this.delta(a, b)
          if (d >= localDelta) continue
          const forbidden =
            (tabu.get(b * members + owner) ?? -1) > step ||
            (other >= 0 && (tabu.get(a * members + other) ?? -1) > step)
          if (forbidden && this.cost + d >= this.bestCost) continue
          localB = b
          localDelta = d
        }
        if (localB < 0) continue
        if (localDelta < 0) {
          this.apply(a, localB, localDelta, tabu, step)
          touched.push(a, localB)
          improved = true
        } else if (localDelta < bestDelta) {
          bestA = a
          bestB = localB
          bestDelta = localDelta
        }
      }
      if (!improved) {
        if (bestA < 0) break
        this.apply(bestA, bestB, bestDelta, tabu, step)
        touched.push(bestA, bestB)
      }
      if (this.cost < this.bestCost) {
        this.bestCost = this.cost
        this.best.set(this.plan)
        stale = 0
      } else stale++
      const next = new Set<number>()
      for (const a of clashes) if (this.clashing(a)) next.add(a)
      for (const t of touched) {
        for (let d = -this.problem.targetN; d <= this.problem.targetN; d++) {
          const x = (t + d) & mask
          if (this.clashing(x)) next.add(x)
        }
      }
      clashes = [...next].sort((x, y) => x - y)
    }
    this.plan.set(this.best)
    this.cost = this.bestCost
  }

  private apply(
    a: number,
    b: number,
    delta: number,
    tabu: Map<number, number>,
    step: number,
  ): void {
    const members = this.problem.locations.length
    tabu.set(a * members + this.plan[a]!, step + TENURE)
    if (this.plan[b]! >= 0) tabu.set(b * members + this.plan[b]!, step + TENURE)
    this.swap(a, b)
    this.cost += delta
  }

  /** Whether `member` fits at b once it no longer owns `leaving` (member spacing only). */
  private fitsAfterLeaving(member: number, b: number, leaving: number): boolean {
    this.plan[leaving] = -1
    const fits = !memberNear(this.plan, this.problem.targetN, member, b)
    this.plan[leaving] = member
    return fits
  }

  /** Gives partitions back to their current owners where that adds no clash (greedy, in order). */
  removeMoves(): void {
    const q = this.plan.length
    const mask = q - 1
    const reach = Math.min(q >> 1, Math.max(REACH, 4 * this.problem.targetN))
    let improved = true
    while (improved && this.budget > 0) {
      improved = false
      for (let a = 0; a < q && this.budget > 0; a++) {
        const owner = this.current[a]!
        if (owner < 0 || this.plan[a] === owner) continue
        for (let k = -reach; k <= reach; k++) {
          const b = (a + k) & mask
          if (this.plan[b] !== owner) continue
          const d = this.delta(a, b)
          if (d < 0) {
            this.swap(a, b)
            this.cost += d
            improved = true
            break
          }
        }
      }
    }
    if (this.cost < this.bestCost) {
      this.bestCost = this.cost
      this.best.set(this.plan)
    }
  }
}
