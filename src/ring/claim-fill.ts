/**
 * The incremental phase of claim: moves partitions from members above their target (donors) and from
 * members that left (holes) to members below their target (receivers), touching nothing else.
 *
 * 1. Scan passes walk the ring once each. At a hole, or at a partition of a donor with surplus left, the
 *    partition goes to a receiver that fits there (no partition of its own, nor, in the strict passes, of
 *    its location within targetN − 1). Pass 1 only gives to receivers that are due: one stride (Q / target)
 *    past their previous partition or previous due point, so new partitions land evenly spread (a bulk
 *    join 1 → 5 becomes a clean stripe); a donor whose partition clashes with its own previous one gives
 *    it to any receiver that fits. Pass 2 drops "due"; pass 3 drops location.
 * 2. Augmenting paths (as in bipartite matching) serve receivers the scans could not: receiver r takes a
 *    partition that another receiver r′ got in this claim, r′ takes another, … until one takes a hole or a
 *    donor's partition; a member holding a ceil may instead pass the ceil to a member of its class. Moves
 *    stay the same; the knife-edge case of one leaver among few members, where each hole fits only one or
 *    two members, needs exactly this. Failing that, paths may run through partitions that did not move
 *    (one extra move each), which costs far less than reshuffling. A member on a path is checked against
 *    its partitions after the path, without the one it hands on: in a tight ring the member next to a
 *    hole may take the hole if someone else takes its old place.
 *    All of this is tried keeping locations apart first; only then are locations ignored (pass 3 and
 *    paths without location), for a location clash is worth an extra move or two. Where location spacing
 *    cannot hold anyway (see ClaimProblem.locationsPossible), locations are ignored throughout.
 * 3. Whatever is still unplaced is forced where it clashes least, for balance comes first; repair and the
 *    fresh arrangement deal with the clashes.
 */
import { assert } from '../core/index.ts'
import type { ClaimProblem } from './claim-problem.ts'
import { locationNear, memberNear } from './spacing.ts'

/** Work budget of the augmenting-path search, in partitions examined. */
const AUGMENT_BUDGET = 16_000_000

/**
 * Fills holes (−1 in `current`) and rebalances to `targets`; returns the new plan. Without `extraMoves`,
 * only holes and surplus move (clashes are forced rather than paid for with more moves).
 */
export function fill(
  problem: ClaimProblem,
  current: Int32Array,
  targets: readonly number[],
  classes: CeilClasses,
  extraMoves = true,
): FillResult {
  const state = new FillState(problem, current, targets, classes)
  state.scan('due')
  state.scan('location')
  // Location spacing is worth an extra move or two; member spacing always is.
  for (const withLocation of problem.locationsPossible ? [true, false] : [false]) {
    if (!withLocation) state.scan('member')
    for (const anyPartition of extraMoves ? [false, true] : [false]) {
      if (state.pending() > 0) state.augment(withLocation, anyPartition)
    }
  }
  if (state.pending() > 0) state.force()
  return { plan: state.plan, targets: state.targets }
}

/** Which members may trade a ceil: same floor and location. */
export interface CeilClasses {
  /** Floor of each member's share. */
  readonly floors: readonly number[]
  /** Class of each member whose share is fractional, −1 for the others (they cannot trade). */
  readonly ceilClass: Int32Array
}

/** The plan {@link fill} made and the targets it met (ceils may have changed hands within a class). */
export interface FillResult {
  readonly plan: Int32Array
  readonly targets: readonly number[]
}

type Pass = 'due' | 'location' | 'member'

class FillState {
  readonly plan: Int32Array
  readonly targets: number[]
  private readonly problem: ClaimProblem
  private readonly classes: CeilClasses
  /** Partitions a member still has to give (donors) … */
  private readonly surplus: Int32Array
  /** … or to receive (receivers). */
  private readonly deficit: Int32Array
  /** Ideal distance between a receiver's partitions. */
  private readonly stride: Float64Array
  /** Partitions that changed hands in this claim. */
  private readonly moved: Uint8Array
  private receivers: number[]

  constructor(
    problem: ClaimProblem,
    current: Int32Array,
    targets: readonly number[],
    classes: CeilClasses,
  ) {
    this.problem = problem
    this.classes = classes
    this.targets = [...targets]
    this.plan = current.slice()
    const members = targets.length
    const counts = new Int32Array(members)
    for (const owner of current) if (owner >= 0) counts[owner]!++
    this.surplus = new Int32Array(members)
    this.deficit = new Int32Array(members)
    this.stride = new Float64Array(members)
    for (let m = 0; m < members; m++) {
      this.surplus[m] = Math.max(0, counts[m]! - targets[m]!)
      this.deficit[m] = Math.max(0, targets[m]! - counts[m]!)
      this.stride[m] = current.length / Math.max(1, targets[m]!)
    }
    this.moved = new Uint8Array(current.length)
    this.receivers = []
    for (let m = 0; m < members; m++) if (this.deficit[m]! > 0) this.receivers.push(m)
  }

  /** Partitions receivers still lack. */
  pending(): number {
    return this.receivers.reduce((sum, r) => sum + this.deficit[r]!, 0)
  }

  private available(partition: number): boolean {
    const owner = this.plan[partition]!
    return owner < 0 || this.surplus[owner]! > 0
  }

  /** Whether `member` may take `partition`: member spacing, and location spacing when asked and possible. */
  private fits(member: number, partition: number, withLocation: boolean, except = -1): boolean {
    const { targetN, locations, locationsPossible } = this.problem
    if (except >= 0) {
      const held = this.plan[except]!
      this.plan[except] = -1
      const ok = this.fits(member, partition, withLocation)
      this.plan[except] = held
      return ok
    }
    if (memberNear(this.plan, targetN, member, partition)) return false
    if (!withLocation || !locationsPossible) return true
    return !locationNear(this.plan, locations, targetN, locations[member]!, partition)
  }

  /** Gives an available partition to `receiver`. */
  private give(partition: number, receiver: number): void {
    const owner = this.plan[partition]!
    if (owner >= 0) this.surplus[owner]!--
    this.plan[partition] = receiver
    this.moved[partition] = 1
    this.deficit[receiver]!--
    if (this.deficit[receiver] === 0) this.receivers = this.receivers.filter((r) => r !== receiver)
  }

  /** One pass over the ring (see the module comment). */
  scan(pass: Pass): void {
    const q = this.plan.length
    const { targetN } = this.problem
    // Last partition of each member before the scan position, starting from the previous lap, and the
    // position from which each receiver is due: one stride after its previous due point or partition.
    const last = new Float64Array(this.surplus.length).fill(Number.NEGATIVE_INFINITY)
    for (let p = 0; p < q; p++) if (this.plan[p]! >= 0) last[this.plan[p]!] = p - q
    const dueAt = last.map((l, m) => l + this.stride[m]!)
    for (let p = 0; p < q && this.receivers.length > 0; p++) {
      const owner = this.plan[p]!
      if (this.available(p)) {
        const clashes = owner >= 0 && p - last[owner]! < targetN
        const receiver = this.pick(p, pass === 'due' && !clashes, pass !== 'member', dueAt)
        if (receiver >= 0) {
          this.give(p, receiver)
          dueAt[receiver] =
            (Number.isFinite(dueAt[receiver]!) ? dueAt[receiver]! : p) + this.stride[receiver]!
        }
      }
      const now = this.plan[p]!
      if (now < 0) continue
      if (now === owner) dueAt[now] = p + this.stride[now]!
      last[now] = p
    }
  }

  /** The receiver to take partition p: fitting, most overdue, then most lacking, then lowest index. */
  private pick(p: number, dueOnly: boolean, withLocation: boolean, dueAt: Float64Array): number {
    let best = -1
    let bestOverdue = Number.NEGATIVE_INFINITY
    for (const r of this.receivers) {
      const overdue = (p - dueAt[r]!) / this.stride[r]!
      if (dueOnly && overdue < 0) continue
      if (best >= 0) {
        if (overdue < bestOverdue) continue
        if (overdue === bestOverdue && this.deficit[r]! <= this.deficit[best]!) continue
      }
      if (!this.fits(r, p, withLocation)) continue
      best = r
      bestOverdue = overdue
    }
    return best
  }

  /**
   * Serves receivers through augmenting paths (see the module comment), within a work budget. With
   * `anyPartition`, paths may also pass through partitions nobody received in this claim, one extra move
   * each (breadth-first, so the fewest).
   */
  augment(withLocation: boolean, anyPartition: boolean): void {
    const budget = { left: AUGMENT_BUDGET }
    for (const start of [...this.receivers]) {
      while (
        this.deficit[start]! > 0 &&
        this.augmentFrom(start, withLocation, anyPartition, budget)
      ) {
        this.deficit[start]!--
      }
    }
    this.receivers = this.receivers.filter((r) => this.deficit[r]! > 0)
  }

  /**
   * Breadth-first search for a path that gives `start` one more partition. Each member on the path needs
   * one more partition: it takes one that another member received in this claim (who then needs one), or,
   * holding a ceil, hands the ceil to a member of its class without one (who then needs one). The path
   * ends at a member that takes a hole or a donor's partition, or at a donor that keeps one more.
   * Applies the path and returns true when found.
   */
  private augmentFrom(
    start: number,
    withLocation: boolean,
    anyPartition: boolean,
    budget: { left: number },
  ): boolean {
    const q = this.plan.length
    const members = this.targets.length
    const { floors, ceilClass } = this.classes
    const parent = new Int32Array(members).fill(-2)
    /** The partition a member hands its parent, or −1 when it takes its parent's ceil. */
    const via = new Int32Array(members)
    parent[start] = -1
    const queue = [start]
    for (let head = 0; head < queue.length && budget.left > 0; head++) {
      const r = queue[head]!
      budget.left -= q
      for (let p = 0; p < q; p++) {
        const owner = this.plan[p]!
        if (owner === r || !this.fits(r, p, withLocation, r === start ? -1 : via[r]!)) continue
        if (this.available(p)) {
          if (owner >= 0) this.surplus[owner]!--
          this.plan[p] = r
          this.moved[p] = 1
          this.unwind(r, parent, via)
          return true
        }
        if ((anyPartition || this.moved[p]) && parent[owner]! === -2) {
          parent[owner] = r
          via[owner] = p
          queue.push(owner)
        }
      }
      const group = ceilClass[r]!
      if (group < 0 || this.targets[r] !== floors[r]! + 1) continue
      for (let b = 0; b < members; b++) {
        if (parent[b] !== -2 || ceilClass[b] !== group || this.targets[b] !== floors[b]) continue
        if (this.deficit[b]! > 0) continue
        parent[b] = r
        via[b] = -1
        if (this.surplus[b]! > 0) {
          this.surplus[b]!--
          this.unwind(b, parent, via)
          return true
        }
        queue.push(b)
      }
    }
    return false
  }

  /** Applies a found path from its last member `end` back to its start. */
  private unwind(end: number, parent: Int32Array, via: Int32Array): void {
    for (let m = end; parent[m]! >= 0; m = parent[m]!) {
      const up = parent[m]!
      if (via[m]! >= 0) {
        this.plan[via[m]!] = up
      } else {
        this.targets[up]!--
        this.targets[m]!++
      }
    }
  }

  /** Places what is left where it clashes least: member clashes first, then location clashes. */
  force(): void {
    const q = this.plan.length
    const { targetN, locations } = this.problem
    while (this.receivers.length > 0) {
      const r = this.receivers[0]!
      let best = -1
      let bestCost = Number.POSITIVE_INFINITY
      for (let p = 0; p < q; p++) {
        if (!this.available(p)) continue
        const cost =
          (memberNear(this.plan, targetN, r, p) ? 2 : 0) +
          (locationNear(this.plan, locations, targetN, locations[r]!, p) ? 1 : 0)
        if (cost < bestCost) {
          best = p
          bestCost = cost
        }
      }
      assert(best >= 0, 'claim: a receiver lacks partitions but none is free')
      this.give(best, r)
    }
  }
}
