/**
 * A fresh arrangement for claim: cooldown-greedy striping, then relabelling onto the current ring.
 *
 * Striping walks the partitions in order and gives each to the member that fits there (not within
 * targetN − 1 of its own last partition, nor of its first one across the wrap-around seam; then the same
 * for its location, where location spacing can hold) and is most pressed: one whose remaining partitions, spaced targetN apart, only just
 * fit before the seam (earliest deadline first), else one with the most quota left or one less, chosen
 * by a hash of (member, partition), not by name. Rounds thus come out in varying orders and lengths, so
 * each member's neighbours differ from one of its partitions to the next. A perfect stripe (abcdefgh abcdefgh …) would make every hole a
 * leaver leaves fillable by the same one or two members only, forcing extra moves on every later leave.
 */
import type { ClaimProblem } from './claim-problem.ts'

/**
 * A plan where member i owns exactly `quota[i]` partitions, spaced as well as the greedy manages
 * (claim repairs what is left). `seeds[i]` is a per-member hash that orders ties.
 */
export function stripe(
  problem: ClaimProblem,
  quota: readonly number[],
  seeds: Uint32Array,
): Int32Array {
  const { partitionCount: q, targetN: n, locations, locationCount, locationsPossible } = problem
  const members = quota.length
  const left = Int32Array.from(quota)
  const first = new Int32Array(members).fill(-1)
  const last = new Int32Array(members).fill(-1)
  const firstAt = new Int32Array(locationCount).fill(-1)
  const lastAt = new Int32Array(locationCount).fill(-1)
  const plan = new Int32Array(q)
  const score = new Int32Array(members)
  const deadline = new Int32Array(members)
  for (let p = 0; p < q; p++) {
    // First pass: how well the best candidates fit, how pressed they are, how much they have left.
    let topScore = -1
    let topDeadline = q
    let topLeft = 0
    for (let m = 0; m < members; m++) {
      if (left[m]! === 0) continue
      const memberFits = last[m]! < 0 || (p - last[m]! >= n && first[m]! + q - p >= n)
      const l = locations[m]!
      const locationFits =
        !locationsPossible ||
        l < 0 ||
        lastAt[l]! < 0 ||
        (p - lastAt[l]! >= n && firstAt[l]! + q - p >= n)
      score[m] = (memberFits ? 2 : 0) + (locationFits ? 1 : 0)
      // The last partition at which m can take its next one and still fit all it has left, spaced,
      // before the seam; it only counts when close (earliest deadline first).
      const lastStart = (first[m]! < 0 ? q - 1 : first[m]! + q - n) - (left[m]! - 1) * n
      deadline[m] = lastStart - p < n ? lastStart : q
      if (score[m]! > topScore) {
        topScore = score[m]!
        topDeadline = deadline[m]!
        topLeft = left[m]!
      } else if (score[m] === topScore) {
        if (deadline[m]! < topDeadline) {
          topDeadline = deadline[m]!
          topLeft = left[m]!
        } else if (deadline[m] === topDeadline) topLeft = Math.max(topLeft, left[m]!)
      }
    }
    // Second pass: among those, anyone within one of the most left, by hash (rounds vary).
    let best = -1
    let bestTie = -1
    for (let m = 0; m < members; m++) {
      if (
        left[m]! === 0 ||
        score[m] !== topScore ||
        deadline[m] !== topDeadline ||
        left[m]! < topLeft - 1
      )
        continue
      const tie = mix32(seeds[m]! ^ Math.imul(p + 1, 0x9e3779b9))
      if (tie > bestTie) {
        best = m
        bestTie = tie
      }
    }
    plan[p] = best
    left[best]!--
    if (first[best]! < 0) first[best] = p
    last[best] = p
    const l = locations[best]!
    if (l >= 0) {
      if (firstAt[l]! < 0) firstAt[l] = p
      lastAt[l] = p
    }
  }
  return plan
}

/**
 * A plan for fewer members than targetN, where spacing cannot hold: member i (largest quota first) takes
 * every targetN-th partition from i, and the partitions of the missing members go to whoever has most
 * quota left (least recently used first). The ring then has the shape of a targetN-stripe with gaps, so
 * when members join up to targetN they take over whole gaps and nothing else moves.
 */
export function stripeFew(problem: ClaimProblem, quota: readonly number[]): Int32Array {
  const { partitionCount: q, targetN: n } = problem
  const order = quota.map((_, m) => m).sort((a, b) => quota[b]! - quota[a]! || a - b)
  const left = Int32Array.from(quota)
  const plan = new Int32Array(q).fill(-1)
  for (let p = 0; p < q; p++) {
    const m = order[p % n]
    if (m !== undefined && left[m]! > 0) {
      plan[p] = m
      left[m]!--
    }
  }
  const used = new Int32Array(quota.length).fill(-1)
  for (let p = 0; p < q; p++) {
    if (plan[p]! >= 0) continue
    let best = -1
    for (let m = 0; m < quota.length; m++) {
      if (left[m]! === 0) continue
      if (best < 0 || left[m]! > left[best]! || (left[m] === left[best] && used[m]! < used[best]!))
        best = m
    }
    plan[p] = best
    left[best]!--
    used[best] = p
  }
  return plan
}

/**
 * Renames the members of `fresh` (and rotates it) to overlap `current` as much as possible, so adopting
 * it moves few partitions. Only members with the same quota and location trade names, which keeps
 * counts and location spacing intact; rotation keeps all spacing intact. Tries up to 64 rotations.
 */
export function relabel(
  problem: ClaimProblem,
  fresh: Int32Array,
  current: Int32Array,
  quota: readonly number[],
): Int32Array {
  const q = fresh.length
  const mask = q - 1
  const members = quota.length
  const classOf = quota.map((t, m) => `${t}/${problem.locations[m]}`)
  let best = fresh
  let bestOverlap = -1
  for (let rotation = 0; rotation < Math.min(q, 64); rotation++) {
    const pairs = new Map<number, number>()
    for (let p = 0; p < q; p++) {
      const slot = fresh[(p + rotation) & mask]!
      const member = current[p]!
      if (member < 0 || classOf[slot] !== classOf[member]) continue
      const key = slot * members + member
      pairs.set(key, (pairs.get(key) ?? 0) + 1)
    }
    const ranked = [...pairs].sort((a, b) => b[1] - a[1] || a[0] - b[0])
    const rename = new Int32Array(members).fill(-1)
    const taken = new Uint8Array(members)
    let overlap = 0
    for (const [key, count] of ranked) {
      const slot = Math.floor(key / members)
      const member = key % members
      if (rename[slot]! >= 0 || taken[member]) continue
      rename[slot] = member
      taken[member] = 1
      overlap += count
    }
    if (overlap <= bestOverlap) continue
    // Slots left unnamed take the unused members of their class, in index order.
    for (let slot = 0; slot < members; slot++) {
      if (rename[slot]! >= 0) continue
      for (let member = 0; member < members; member++) {
        if (!taken[member] && classOf[member] === classOf[slot]) {
          rename[slot] = member
          taken[member] = 1
          break
        }
      }
    }
    bestOverlap = overlap
    best = new Int32Array(q)
    for (let p = 0; p < q; p++) best[p] = rename[fresh[(p + rotation) & mask]!]!
  }
  return best
}

/** The MurmurHash3 finaliser: a cheap, well-mixed 32-bit permutation. */
export function mix32(x: number): number {
  let h = x ^ (x >>> 16)
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/**
 * The perfect targetN-stripe closest to `current`: with exactly targetN members, each owning Q / targetN,
 * the only spaced rings give every member one residue class of partitions modulo targetN. The stripe
 * keeping the most owners in place is a maximum-weight assignment of members to residues (Hungarian
 * method, O(targetN³)), so this is the least a spaced ring can move: exact, not a heuristic.
 */
export function nearestStripe(targetN: number, current: Int32Array): Int32Array {
  const q = current.length
  const n = targetN
  // kept[r][m]: partitions of residue r that member m owns now; minimise cost = −kept.
  const cost: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0))
  for (let p = 0; p < q; p++) {
    const m = current[p]!
    if (m >= 0 && m < n) cost[p % n]![m]!--
  }
  const residueOf = assign(cost)
  const plan = new Int32Array(q)
  for (let p = 0; p < q; p++) plan[p] = residueOf[p % n]!
  return plan
}

/**
 * Minimum-cost perfect assignment of rows to columns of a square matrix (Hungarian method with
 * potentials); returns the column of each row. Ties go to the lowest indices, deterministically.
 */
function assign(cost: readonly (readonly number[])[]): Int32Array {
  const n = cost.length
  const u = new Float64Array(n + 1)
  const v = new Float64Array(n + 1)
  const rowOf = new Int32Array(n + 1) // rowOf[column], 1-based; 0 = free
  const way = new Int32Array(n + 1)
  for (let row = 1; row <= n; row++) {
    rowOf[0] = row
    let column = 0
    const minv = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY)
    const used = new Uint8Array(n + 1)
    do {
      used[column] = 1
      const r = rowOf[column]!
      let delta = Number.POSITIVE_INFINITY
      let next = 0
      for (let c = 1; c <= n; c++) {
        if (used[c]) continue
        const reduced = cost[r - 1]![c - 1]! - u[r]! - v[c]!
        if (reduced < minv[c]!) {
          minv[c] = reduced
          way[c] = column
        }
        if (minv[c]! < delta) {
          delta = minv[c]!
          next = c
        }
      }
      for (let c = 0; c <= n; c++) {
        if (used[c]) {
          u[rowOf[c]!] = u[rowOf[c]!]! + delta
          v[c] = v[c]! - delta
        } else minv[c] = minv[c]! - delta
      }
      column = next
    } while (rowOf[column] !== 0)
    do {
      const previous = way[column]!
      rowOf[column] = rowOf[previous]!
      column = previous
    } while (column !== 0)
  }
  const columnOf = new Int32Array(n)
  for (let c = 1; c <= n; c++) columnOf[rowOf[c]! - 1] = c - 1
  return columnOf
}
