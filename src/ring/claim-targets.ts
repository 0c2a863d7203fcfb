/**
 * Claim targets: how many partitions each member should own. Every member gets the floor or the ceil of
 * its weighted share Q · capacity / Σ capacity (largest remainder). The extra ceils are dealt first to
 * locations, so each location also owns the floor or ceil of its share (which keeps location spacing
 * possible), then to members inside each location; ties go to whoever owns more already, which saves moves.
 */

/** Tolerance for floating-point shares: a share within this of an integer counts as that integer. */
const EPSILON = 1e-9

/** One member as target computation sees it. */
export interface TargetInput {
  /** Positive weight. */
  readonly capacity: number
  /** Location group; members without a location each form their own group. */
  readonly group: number
  /** Partitions the member owns now. */
  readonly owned: number
}

/** Targets of every member, index-aligned with the input. */
export interface ClaimTargets {
  /** Partitions each member should own; they sum to Q. */
  readonly targets: number[]
  /** The floor of each member's share. */
  readonly floors: number[]
  /** Whether a member's share is fractional, so that its target may be floor or floor + 1. */
  readonly fractional: boolean[]
}

/** Target partition counts for `members`, summing to `partitionCount`. */
export function claimTargets(
  members: readonly TargetInput[],
  partitionCount: number,
): ClaimTargets {
  const total = members.reduce((sum, m) => sum + m.capacity, 0)
  const shares = members.map((m) => (partitionCount * m.capacity) / total)
  const floors = shares.map((s) => Math.floor(s + EPSILON))
  const targets = [...floors]
  const fractions = shares.map((s, i) => Math.max(0, s - floors[i]!))

  const groups = new Map<number, number[]>()
  members.forEach((m, i) => {
    const list = groups.get(m.group)
    if (list === undefined) groups.set(m.group, [i])
    else list.push(i)
  })
  // Per group: the extras it is owed outright, its remainder, and how many members may still take one.
  const groupList = [...groups.values()].map((indices) => {
    const owed = indices.reduce((sum, i) => sum + fractions[i]!, 0)
    const base = Math.floor(owed + EPSILON)
    return {
      indices,
      extra: base,
      remainder: owed - base,
      room: indices.filter((i) => fractions[i]! > EPSILON).length,
      owned: indices.reduce((sum, i) => sum + members[i]!.owned, 0),
    }
  })
  let left = partitionCount - targets.reduce((a, b) => a + b, 0)
  left -= groupList.reduce((sum, g) => sum + g.extra, 0)
  const byRemainder = [...groupList].sort(
    (a, b) =>
      byMore(a.remainder, b.remainder) || b.owned - a.owned || a.indices[0]! - b.indices[0]!,
  )
  for (const g of byRemainder) {
    if (left <= 0) break
    if (g.extra < g.room) {
      g.extra++
      left--
    }
  }
  for (const g of groupList) {
    const order = g.indices
      .filter((i) => fractions[i]! > EPSILON)
      .sort(
        (a, b) =>
          byMore(fractions[a]!, fractions[b]!) || members[b]!.owned - members[a]!.owned || a - b,
      )
    for (const i of order.slice(0, g.extra)) targets[i] = targets[i]! + 1
  }
  return { targets, floors, fractional: fractions.map((f) => f > EPSILON) }
}

/** Sort comparator putting the larger of two floating-point values first, equal within {@link EPSILON}. */
function byMore(a: number, b: number): number {
  return Math.abs(a - b) > EPSILON ? b - a : 0
}
