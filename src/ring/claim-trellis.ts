/**
 * Tight rings by dynamic programming. With few members per window (targetN < M ≤ 2 · targetN − 2, e.g.
 * 5 or 6 members at targetN 4) a spaced ring is nearly rigid: each partition may go to one of only
 * M − targetN + 1 members, given the targetN − 1 before it. Local search then struggles, on bulk leaves
 * above all, while a Viterbi pass over the states (the owners of the last targetN − 1 partitions, all
 * distinct) finds the spaced ring with the fewest moves exactly. The ring is cut at one place; the state
 * there is tried exhaustively when that is cheap (the result is then the least any spaced ring moves),
 * else taken from a hint (the incremental plan). Balance enters through Lagrangian prices per member
 * (a few subgradient passes, a fixed schedule); the ceils of a share may land on any member of its class
 * ({@link fitTargets}); what imbalance remains is removed by renaming two members over short stretches
 * ({@link rebalance}), which keeps spacing, and finally by claim's fill, repair and polish.
 * Deterministic; a pass costs Q · states · (M − targetN + 1), and the trellis is skipped when that
 * exceeds a budget.
 */
import type { CeilClasses } from './claim-fill.ts'
import type { ClaimProblem } from './claim-problem.ts'

/** Work budget of one pass, in transitions. */
const PASS_WORK = 6_000_000
/** Work budget of all passes together: fewer passes when each costs more. */
const TOTAL_WORK = 16_000_000
/** Work budget for choosing the best head state, in transitions. */
const HEAD_WORK = 6_000_000
/** Passes rebalanced at the end (the best by imbalance and moves), for Q up to 4096; one above. */
const REBALANCED = 3
/** Subgradient passes at most. */
const PASSES = 8

/** Whether the trellis is cheap enough, and useful, for this problem. */
export function trellisFits(problem: ClaimProblem, members: number): boolean {
  const n = problem.targetN
  if (!problem.spacingPossible || problem.locationCount > 0 || n < 2) return false
  if (members <= n || members > 2 * n - 2) return false
  return statesOf(members, n - 1) * (members - n + 1) * problem.partitionCount <= PASS_WORK
}

function statesOf(members: number, k: number): number {
  let s = 1
  for (let i = 0; i < k; i++) s *= members - i
  return s
}

/**
 * A spaced plan near `current` with counts close to `targets` (not always equal), cut where `hint` (a
 * full plan, preferably spaced) has targetN − 1 distinct owners; undefined when it has none.
 */
export function trellis(
  problem: ClaimProblem,
  current: Int32Array,
  targets: readonly number[],
  classes: CeilClasses,
  hint: Int32Array,
): TrellisResult | undefined {
  const q = current.length
  const mask = q - 1
  const n = problem.targetN
  const k = n - 1
  const members = targets.length
  const c = members - k
  // States: ordered tuples of k distinct members, oldest first.
  const tuples: number[][] = []
  const build = (prefix: number[]) => {
    if (prefix.length === k) {
      tuples.push([...prefix])
      return
    }
    for (let m = 0; m < members; m++) if (!prefix.includes(m)) build([...prefix, m])
  }
  build([])
  const size = tuples.length
  const keyOf = (t: readonly number[]) => t.reduce((key, m) => key * members + m, 0)
  const index = new Map(tuples.map((t, s) => [keyOf(t), s]))
  const next = new Int32Array(size * c)
  const choice = new Int32Array(size * c)
  tuples.forEach((t, s) => {
    let j = 0
    for (let m = 0; m < members; m++) {
      if (t.includes(m)) continue
      choice[s * c + j] = m
      next[s * c + j] = index.get(keyOf([...t.slice(1), m]))!
      j++
    }
  })
  // Cut where `hint` (a full plan) holds k distinct members that the current ring holds too, or as many
  // of them as can be found.
  let cut = -1
  let cutScore = -1
  for (let o = 0; o < q && cutScore < k; o++) {
    const t: number[] = []
    let score = 0
    for (let i = 0; i < k; i++) {
      const m = hint[(o + i) & mask]!
      t.push(m)
      if (m === current[(o + i) & mask]) score++
    }
    if (score > cutScore && t.every((m, i) => m >= 0 && t.indexOf(m) === i)) {
      cut = o
      cutScore = score
    }
  }
  if (cut < 0) return undefined
  const base = (t: readonly number[]) =>
    t.reduce((sum, m, i) => sum + (m === current[(cut + i) & mask] ? 0 : 1), 0)
  const price = new Float64Array(members)
  const back = size < 65536 ? new Uint16Array(q * size) : new Uint32Array(q * size)
  let dp = new Float64Array(size)
  let nextDp = new Float64Array(size)
  /** One Viterbi pass from `start` at the cut: the best closing end state and its value. */
  const run = (start: number, record: boolean, bound: number): { end: number; value: number } => {
    const head = tuples[start]!
    dp.fill(Number.POSITIVE_INFINITY)
    dp[start] = base(head) + head.reduce((sum, m) => sum + price[m]!, 0)
    for (let r = k; r < q; r++) {
      const owner = current[(cut + r) & mask]!
      nextDp.fill(Number.POSITIVE_INFINITY)
      const row = r * size
      for (let s = 0; s < size; s++) {
        const from = dp[s]!
        if (from >= bound) continue
        for (let j = 0; j < c; j++) {
          const m = choice[s * c + j]!
          const value = from + (m === owner ? 0 : 1) + price[m]!
          const t = next[s * c + j]!
          if (value < nextDp[t]!) {
            nextDp[t] = value
            if (record) back[row + t] = s
          }
        }
      }
      const swap = dp
      dp = nextDp
      nextDp = swap
    }
    let end = -1
    for (let s = 0; s < size; s++) {
      if (dp[s]! >= bound || (end >= 0 && dp[s]! >= dp[end]!)) continue
      const t = tuples[s]!
      let closes = true
      for (let i = 0; i < k && closes; i++) {
        for (let j = 0; j < k && closes; j++) if (k - i + j < n && t[i] === head[j]) closes = false
      }
      if (closes) end = s
    }
    return { end, value: end < 0 ? Number.POSITIVE_INFINITY : dp[end]! }
  }
  // The head: the hint's, or, when cheap enough, whichever gives the fewest moves (then exact).
  const passWork = size * c * q
  let start = index.get(keyOf(Array.from({ length: k }, (_, i) => hint[(cut + i) & mask]!)))!
  if (passWork * size <= HEAD_WORK) {
    let bound = run(start, false, Number.POSITIVE_INFINITY).value
    for (let s = 0; s < size; s++) {
      if (s === start || base(tuples[s]!) >= bound) continue
      const value = run(s, false, bound).value
      if (value < bound) {
        bound = value
        start = s
      }
    }
  }
  const head = tuples[start]!

  const plan = new Int32Array(q)
  const counts = new Int32Array(members)
  const found: { key: number; plan: Int32Array }[] = []
  const passes = Math.max(1, Math.min(PASSES, Math.floor(TOTAL_WORK / passWork)))
  for (let pass = 0; pass < passes; pass++) {
    const { end } = run(start, true, Number.POSITIVE_INFINITY)
    if (end < 0) break
    counts.fill(0)
    let s = end
    for (let r = q - 1; r >= k; r--) {
      const m = tuples[s]![k - 1]!
      plan[(cut + r) & mask] = m
      counts[m]!++
      s = back[r * size + s]!
    }
    for (let i = 0; i < k; i++) {
      plan[(cut + i) & mask] = head[i]!
      counts[head[i]!]!++
    }
    const fitted = fitTargets(counts, targets, classes)
    let imbalance = 0
    let worst = 0
    for (let m = 0; m < members; m++) {
      const off = Math.abs(counts[m]! - fitted[m]!)
      imbalance += off
      worst = Math.max(worst, off)
    }
    let moved = 0
    for (let p = 0; p < q; p++) if (plan[p] !== current[p]) moved++
    // An unbalanced partition costs about two moves to fix afterwards.
    found.push({ key: 2 * imbalance + moved, plan: plan.slice() })
    if (imbalance === 0) break
    const step = 0.5 / Math.sqrt(pass + 1) / worst
    for (let m = 0; m < members; m++) price[m] = price[m]! + step * (counts[m]! - fitted[m]!)
  }
  // The most promising passes, rebalanced; the one left nearest balance, then with the fewest moves.
  let best: TrellisResult | undefined
  let bestKey = Number.POSITIVE_INFINITY
  const tried = found.sort((a, b) => a.key - b.key).slice(0, q <= 4096 ? REBALANCED : 1)
  for (const { plan: candidate } of tried) {
    const countOf = () => {
      counts.fill(0)
      for (const m of candidate) counts[m]!++
      return fitTargets(counts, targets, classes)
    }
    rebalance(problem, candidate, countOf(), current)
    const met = countOf()
    let key = 0
    for (let m = 0; m < members; m++) key += 2 * q * Math.abs(counts[m]! - met[m]!)
    for (let p = 0; p < q; p++) if (candidate[p] !== current[p]) key++
    if (key < bestKey) {
      bestKey = key
      best = { plan: candidate, targets: met }
    }
  }
  return best
}

/** What {@link trellis} returns: a spaced plan and the targets it is measured against. */
export interface TrellisResult {
  readonly plan: Int32Array
  /** `targets`, with ceils passed within their classes to the members that own more in the plan. */
  readonly targets: readonly number[]
}

/**
 * Targets for a plan with these counts: within each ceil class, the class's ceils go to the members
 * that own the most (ties to those that held the ceil, then to lower indices); other targets stay.
 */
function fitTargets(
  counts: Int32Array,
  targets: readonly number[],
  classes: CeilClasses,
): number[] {
  const { floors, ceilClass } = classes
  const fitted = [...targets]
  const byClass = new Map<number, number[]>()
  ceilClass.forEach((group, m) => {
    if (group < 0) return
    const list = byClass.get(group)
    if (list === undefined) byClass.set(group, [m])
    else list.push(m)
  })
  for (const list of byClass.values()) {
    const ceils = list.filter((m) => targets[m] === floors[m]! + 1).length
    const order = [...list].sort(
      (a, b) => counts[b]! - counts[a]! || targets[b]! - targets[a]! || a - b,
    )
    order.forEach((m, i) => {
      fitted[m] = floors[m]! + (i < ceils ? 1 : 0)
    })
  }
  return fitted
}

/** Longest stretch {@link rebalance} relabels. */
const STRETCH = 64

/**
 * Moves `plan` (spaced) towards `targets` without breaking spacing: for a member X above its target
 * and a member Y below, swapping the names X and Y over a stretch of the ring keeps the stretch spaced,
 * so only its two ends need checking, and it passes one partition from X to Y when the stretch holds one
 * X more than Y. The cheapest such stretches (in moves from `current`) are taken, far enough apart not
 * to interact. Works in place; what it cannot balance is left to fill.
 */
export function rebalance(
  problem: ClaimProblem,
  plan: Int32Array,
  targets: readonly number[],
  current: Int32Array,
): void {
  const q = plan.length
  const mask = q - 1
  const n = problem.targetN
  const members = targets.length
  const counts = new Int32Array(members)
  for (const m of plan) counts[m]!++
  const reach = Math.min(STRETCH, q >> 1)
  for (let x = 0; x < members; x++) {
    for (let y = 0; y < members; y++) {
      const units = Math.min(counts[x]! - targets[x]!, targets[y]! - counts[y]!)
      if (x === y || units <= 0) continue
      const renamed = (m: number) => (m === x ? y : m === y ? x : m)
      const endsFit = (i: number, j: number): boolean => {
        for (const edge of [i, j + 1]) {
          for (let a = edge - n + 1; a < edge; a++) {
            for (let b = edge; b < a + n; b++) {
              const pa = plan[a & mask]!
              const pb = plan[b & mask]!
              const ina = a >= i && a <= j
              const inb = b >= i && b <= j
              if ((ina ? renamed(pa) : pa) === (inb ? renamed(pb) : pb)) return false
            }
          }
        }
        return true
      }
      // The cheapest fitting stretch from each start with one x more than y.
      const found: { cost: number; i: number; j: number }[] = []
      for (let i = 0; i < q; i++) {
        let diff = 0
        let cost = 0
        let best: { cost: number; i: number; j: number } | undefined
        for (let j = i; j < i + reach; j++) {
          const p = j & mask
          const m = plan[p]!
          if (m === x) diff++
          else if (m === y) diff--
          else continue
          cost += (renamed(m) !== current[p] ? 1 : 0) - (m !== current[p] ? 1 : 0)
          if (diff === 1 && (best === undefined || cost < best.cost) && endsFit(i, j)) {
            best = { cost, i, j }
          }
        }
        if (best !== undefined) found.push(best)
      }
      found.sort((a, b) => a.cost - b.cost || a.i - b.i)
      const used = new Uint8Array(q)
      let done = 0
      for (const s of found) {
        if (done === units) break
        let free = true
        for (let p = s.i - n; p <= s.j + n && free; p++) if (used[p & mask]) free = false
        if (!free || !endsFit(s.i, s.j)) continue
        for (let p = s.i; p <= s.j; p++) {
          plan[p & mask] = renamed(plan[p & mask]!)
          used[p & mask] = 1
        }
        done++
      }
      counts[x] = counts[x]! - done
      counts[y] = counts[y]! + done
    }
  }
}
