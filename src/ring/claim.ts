/**
 * Claim (riak_core_claim): which member owns each partition. A pure, deterministic function of the
 * members (sorted by id, so the order they are listed in does not matter), the current ring, targetN and Q.
 *
 * Prior art. riak_core's claim v2 lets a joining node take partitions that keep its spacing and falls
 * back to re-diagonalising the whole ring when it cannot: on a leave 8 → 7 at Q = 64 it moved 55
 * partitions where 8 suffice. Claim v4 searches for a spaced, balanced ring near the current one (17 moves
 * on that leave) but moved 48 on a join 3 → 4 and took 13.7 s to plan at Q = 512. We keep v2's local,
 * receiver-driven style, and make it near-optimal and cheap:
 *
 * 1. Targets first ({@link claimTargets}): every member gets the floor or ceil of its weighted share; the
 *    ceils go to locations, then members, that already own more. The moves needed are then the least
 *    possible for a balanced ring: the sum of the deficits.
 * 2. Only those move ({@link fill}): holes left by leavers and the surplus of members above target go to
 *    members below target, where they fit (spacing, then location) and spread evenly. What a greedy scan
 *    cannot place is placed through augmenting paths, as in bipartite matching, which may also pass a ceil
 *    from one member to another of the same share; only if that fails do paths run through partitions that
 *    had no reason to move (one extra move each).
 * 3. Repair ({@link repair}) removes leftover clashes by count-preserving swaps; polish ({@link polish}), a
 *    tabu search over swaps that weighs moves too, removes what repair cannot (ejection chains: the
 *    clashing member goes where it fits, whoever it displaces may clash in turn), then takes back moves
 *    that are not needed.
 * 4. Tight rings (targetN < M ≤ 2 · targetN − 2, e.g. 5 or 6 members at targetN 4), where a spaced ring
 *    is nearly rigid, also get an exact search ({@link trellis}): dynamic programming over the owners of
 *    the last targetN − 1 partitions finds the spaced ring nearest the current one, balance enters through
 *    Lagrangian prices and stretch relabelling, and fill, repair and polish finish it. The better plan
 *    wins. With exactly targetN members the only spaced rings are perfect stripes, and the nearest one is
 *    an assignment of members to residues ({@link nearestStripe}): the least possible, exactly (join
 *    3 → 4: 16 moves).
 * 5. If clashes remain, a fresh arrangement ({@link freshPlan}), relabelled and rotated onto the current
 *    owners to keep as many as possible in place ({@link relabel}), is taken when it has fewer member
 *    violations, or removes enough location violations to pay for its extra moves ({@link preferFresh}).
 *
 * Fresh arrangements, also used for a ring claimed from scratch, are built for later changes: rounds vary
 * in order, so a leaver's holes have several candidate fillers (small rings are checked against every
 * single leave, and rings of targetN + 2 to 2 · targetN − 1 members are hill-climbed until no leaver's
 * hole is blocked, see {@link leaveProof}), and fewer members than targetN are laid out as a gapped
 * targetN-stripe that the next joiners fill exactly. Planning costs O(Q · M) in the common case: tens of
 * milliseconds for 101 members at Q = 16384; the searches for tight rings are bounded by work budgets
 * (well under a second at Q = 16384).
 *
 * Figures (targetN 4, from our own fresh rings): a single leave 7 → 6 at Q = 1024 moves the leaver's 146
 * partitions (a reshuffle of 583 before), 6 → 5 at Q = 256 moves 45 for a share of 42, a bulk leave
 * 9 → 5 at Q = 1024 moves 509 where no spaced ring moves fewer than 508 (the share is 455; at targetN + 1
 * members spacing, not balance, is what costs), and 5 → 4 takes the nearest perfect stripe.
 *
 * Limits: a leave into targetN or targetN + 1 members costs what the nearest spaced ring costs, often well
 * above the leaver's share (5 → 4 at Q = 64: 49 moves, a share of 12). Rings reached by joins are not
 * leave-proofed, so a later leave into 5 to 7 members may pay a few extra moves per blocked hole. When a
 * location owns nearly Q / targetN partitions its pattern is almost forced, and a change either pays a
 * reshuffle or keeps a few location violations (reported). Weighted members get spacing where the greedy
 * finds it, which is not guaranteed.
 */
import { InvalidArgumentError } from '../core/index.ts'
import { type CeilClasses, fill } from './claim-fill.ts'
import { freshPlan } from './claim-fresh.ts'
import { polish } from './claim-polish.ts'
import type { ClaimProblem } from './claim-problem.ts'
import { repair } from './claim-repair.ts'
import { planReport } from './claim-report.ts'
import { nearestStripe, relabel } from './claim-stripe.ts'
import { claimTargets } from './claim-targets.ts'
import { trellis, trellisFits } from './claim-trellis.ts'
import { hashKey } from './hash.ts'
import { createRing, partitionBits } from './ring.ts'
import { countViolations } from './spacing.ts'
import type { ClaimInit, ClaimMember, ClaimResult, MemberId, Violations } from './types.ts'

/**
 * Assigns every partition to one of `init.members` (see the module comment for the algorithm) and reports
 * the moves from `init.ring`, the balance and the violations left. Throws {@link InvalidArgumentError} for
 * an invalid Q, targetN outside [1, Q], no members, duplicate ids, a capacity that is not a positive finite
 * number, or a ring of another size.
 */
export function claim(init: ClaimInit): ClaimResult {
  const { partitionCount: q, targetN, ring } = init
  partitionBits(q)
  if (!Number.isInteger(targetN) || targetN < 1 || targetN > q) {
    throw new InvalidArgumentError(`targetN must be an integer in [1, ${q}], got ${targetN}`)
  }
  if (ring !== undefined && ring.partitionCount !== q) {
    throw new InvalidArgumentError(`the ring has ${ring.partitionCount} partitions, not ${q}`)
  }
  const members = checkMembers(init.members)
  const index = new Map(members.map((m, i) => [m.id, i]))
  const locationIds = new Map<string, number>()
  const locations = Int32Array.from(members, (m) => {
    if (m.location === undefined) return -1
    if (!locationIds.has(m.location)) locationIds.set(m.location, locationIds.size)
    return locationIds.get(m.location)!
  })
  const current = new Int32Array(q).fill(-1)
  const owned = new Array<number>(members.length).fill(0)
  if (ring !== undefined) {
    ring.owners.forEach((owner, p) => {
      const m = index.get(owner)
      if (m === undefined) return
      current[p] = m
      owned[m]!++
    })
  }
  const targetsOf = (leaver: number) => memberTargets(members, locations, owned, q, leaver)
  const { targets, classes } = targetsOf(-1)
  const problem: ClaimProblem = {
    partitionCount: q,
    targetN,
    locations,
    locationCount: locationIds.size,
    spacingPossible: members.length >= targetN && Math.max(...targets) * targetN <= q,
    locationsPossible: locationsPossible(locations, targets, targetN, q),
  }
  const seeds = Uint32Array.from(members, (m) => hashKey('claim', m.id))

  let plan: Int32Array
  let met: readonly number[] = targets
  if (owned.every((n) => n === 0)) {
    plan = freshPlan(problem, targets, seeds, targetsOf)
  } else if (problem.spacingPossible && members.length === targetN) {
    // Only perfect stripes are spaced: take the one nearest the current ring (the least moves possible).
    plan = nearestStripe(targetN, current)
  } else {
    const filled = fill(problem, current, targets, classes)
    const unrepaired = filled.plan.slice()
    plan = problem.spacingPossible ? repair(problem, filled.plan) : filled.plan
    met = filled.targets
    let left = countViolations(plan, locations, targetN)
    const clashes = () => left.spacing + (problem.locationsPossible ? left.location : 0)
    // Tight rings: the exact trellis, balanced afterwards by fill, repair and polish.
    let tight: Candidate | undefined
    const least = targets.reduce((sum, t, m) => sum + Math.max(0, t - owned[m]!), 0)
    if (trellisFits(problem, members.length) && (clashes() > 0 || moves(plan, current) > least)) {
      const found = trellis(problem, current, targets, classes, plan)
      if (found !== undefined) {
        const balanced = fill(problem, found.plan, found.targets, classes)
        let candidate = repair(problem, balanced.plan)
        if (countViolations(candidate, locations, targetN).spacing > 0) {
          candidate = polish(problem, candidate, current)
        }
        tight = { plan: candidate, met: balanced.targets }
      }
    }
    // Polish the incremental plan, unless the trellis gave a clean plan and there are many clashes.
    const tightClean =
      tight !== undefined && countViolations(tight.plan, locations, targetN).spacing === 0
    const fewLocationClashes =
      problem.locationsPossible && left.location > 0 && left.location <= FEW_LOCATION_CLASHES
    if (
      problem.spacingPossible &&
      (left.spacing > 0 || fewLocationClashes) &&
      (!tightClean || left.spacing * 64 <= q)
    ) {
      const a = polish(problem, plan, current)
      const b = polish(problem, unrepaired, current)
      plan = better(problem, a, b, current)
      left = countViolations(plan, locations, targetN)
    }
    if (tight !== undefined && better(problem, plan, tight.plan, current) === tight.plan) {
      plan = tight.plan
      met = tight.met
      left = countViolations(plan, locations, targetN)
    }
    if (left.spacing + (problem.locationsPossible ? left.location : 0) > 0) {
      const fresh = relabel(
        problem,
        freshPlan(problem, targets, seeds, targetsOf),
        current,
        targets,
      )
      if (preferFresh(problem, fresh, plan, current)) {
        plan = fresh
        met = targets
      }
    }
  }

  const next = createRing(Array.from(plan, (m) => members[m]!.id))
  return {
    ring: next,
    report: planReport(ring, next, { targetN, members }),
    targets: new Map(members.map((m, i) => [m.id, met[i]!])),
  }
}

/**
 * Targets and ceil classes of `members` (with `leaver`, if ≥ 0, left out: target 0, no class). Members
 * without a location each form their own location group for the targets; members with the same floor and
 * location (or both without one) form a ceil class.
 */
function memberTargets(
  members: readonly ClaimMember[],
  locations: Int32Array,
  owned: readonly number[],
  q: number,
  leaver: number,
): { targets: number[]; classes: CeilClasses } {
  const staying = members.map((_, i) => i).filter((i) => i !== leaver)
  const computed = claimTargets(
    staying.map((i) => ({
      capacity: members[i]!.capacity ?? 1,
      group: locations[i]! >= 0 ? locations[i]! : -1 - i,
      owned: owned[i]!,
    })),
    q,
  )
  const targets = new Array<number>(members.length).fill(0)
  const floors = new Array<number>(members.length).fill(0)
  const ceilClass = new Int32Array(members.length).fill(-1)
  const classKeys = new Map<string, number>()
  staying.forEach((i, k) => {
    targets[i] = computed.targets[k]!
    floors[i] = computed.floors[k]!
    if (!computed.fractional[k]) return
    const key = `${floors[i]}/${locations[i]}`
    if (!classKeys.has(key)) classKeys.set(key, classKeys.size)
    ceilClass[i] = classKeys.get(key)!
  })
  return { targets, classes: { floors, ceilClass } }
}

/** Members sorted by id, after validation. */
function checkMembers(members: readonly ClaimMember[]): ClaimMember[] {
  if (members.length === 0) throw new InvalidArgumentError('claim needs at least one member')
  const seen = new Set<MemberId>()
  for (const m of members) {
    if (seen.has(m.id)) throw new InvalidArgumentError(`member ${m.id} is listed twice`)
    seen.add(m.id)
    const capacity = m.capacity ?? 1
    if (!Number.isFinite(capacity) || capacity <= 0) {
      throw new InvalidArgumentError(
        `capacity of ${m.id} must be a positive finite number, got ${capacity}`,
      )
    }
  }
  return [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/**
 * Whether location spacing may be possible: at least targetN groups (a member without a location is a
 * group of its own) and no location owning more than Q / targetN.
 */
function locationsPossible(
  locations: Int32Array,
  targets: readonly number[],
  targetN: number,
  q: number,
): boolean {
  const totals = new Map<number, number>()
  locations.forEach((l, m) => {
    const group = l >= 0 ? l : -1 - m
    totals.set(group, (totals.get(group) ?? 0) + targets[m]!)
  })
  return totals.size >= targetN && Math.max(...totals.values()) * targetN <= q
}

/**
 * Whether the fresh plan should replace the incremental one. Fewer member violations always win. A
 * location violation is worth at most Q / targetN moves, the most one location can own (rebuilding one
 * location's pattern, not the ring): the fresh plan wins when the location violations it removes pay for
 * the extra moves it costs, so one stray location clash does not buy a reshuffle of the whole ring. Otherwise the plan that moves less wins, unless it has more
 * location violations.
 */
function preferFresh(
  problem: ClaimProblem,
  fresh: Int32Array,
  incremental: Int32Array,
  current: Int32Array,
): boolean {
  const a: Violations = countViolations(fresh, problem.locations, problem.targetN)
  const b: Violations = countViolations(incremental, problem.locations, problem.targetN)
  if (a.spacing !== b.spacing) return a.spacing < b.spacing
  const extraMoves = moves(fresh, current) - moves(incremental, current)
  const removed = problem.locationsPossible ? b.location - a.location : 0
  if (removed > 0) {
    return extraMoves <= (removed * problem.partitionCount) / problem.targetN
  }
  return removed === 0 && extraMoves < 0
}

function moves(plan: Int32Array, current: Int32Array): number {
  let n = 0
  for (let p = 0; p < plan.length; p++) if (plan[p] !== current[p]) n++
  return n
}

/**
 * Location clashes left after repair that polish still takes on when no member clash is left: a stray
 * one or two are worth a few swaps; many are the fresh arrangement's job (polish would be slow there).
 */
const FEW_LOCATION_CLASHES = 2

/** A plan with the targets it meets. */
interface Candidate {
  readonly plan: Int32Array
  readonly met: readonly number[]
}

/** Of two plans with the same counts, the one with fewer member, then location clashes, then moves (a on ties). */
function better(
  problem: ClaimProblem,
  a: Int32Array,
  b: Int32Array,
  current: Int32Array,
): Int32Array {
  const va = countViolations(a, problem.locations, problem.targetN)
  const vb = countViolations(b, problem.locations, problem.targetN)
  if (va.spacing !== vb.spacing) return va.spacing < vb.spacing ? a : b
  if (problem.locationsPossible && va.location !== vb.location)
    return va.location < vb.location ? a : b
  return moves(b, current) < moves(a, current) ? b : a
}
