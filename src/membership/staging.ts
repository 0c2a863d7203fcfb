/**
 * Staged membership changes, planned and committed as one ring transition (riak_core_claimant's
 * `stage`/`plan`/`commit`/`clear`). Staging only validates and records intent; `plan` computes the next
 * cluster state and a report of everything that would move; `commit` adopts it if the state has not
 * moved on since. A leave needs one transition, not two: the plan claims the final ring at once and
 * the transfers carry ownership over; the leaving member turns `exiting` when its last one completes.
 */

import { bump } from '../clock/index.ts'
import { MembershipError, StalePlanError } from '../core/index.ts'
import type { ClaimInit, ClaimResult, MemberId, PlanReport, Ring } from '../ring/index.ts'
import { claim, planReport } from '../ring/index.ts'
import {
  byId,
  type ClusterState,
  currentOwners,
  equalStates,
  isDown,
  type Lifecycle,
  type Member,
  type PendingTransfer,
  requireMember,
  settle,
} from './cluster-state.ts'

/**
 * One staged change:
 * - `join`: a joining member becomes valid and claims its share;
 * - `leave`: a valid member hands its partitions off, then exits;
 * - `remove`: a member is dropped at once, without handoff (its data is lost unless replicated);
 * - `replace`: a valid member hands all its partitions to a joining member `by`, then exits;
 * - `force-replace`: `by` takes over a member's partitions at once, without handoff.
 */
export type StagedChange =
  | { readonly kind: 'join' | 'leave' | 'remove'; readonly id: MemberId }
  | { readonly kind: 'replace' | 'force-replace'; readonly id: MemberId; readonly by: MemberId }

/** Staged changes, at most one per member. */
export type Staged = readonly StagedChange[]

/** Options of {@link plan}. */
export interface PlanInit {
  /** Replicas to keep apart on the ring (claim spacing). Default 4, riak_core's `target_n_val`. */
  readonly targetN?: number
  /** Q for the first commit; later commits keep the ring's. Default 64. */
  readonly partitionCount?: number
  /** The claim strategy. Default: the ring module's `claim`. */
  readonly claim?: (init: ClaimInit) => ClaimResult
}

/** What committing a plan would do, reported before anything moves. */
export interface ClusterPlanReport extends PlanReport {
  /** Handoffs the commit asks for, by partition: each from the member that holds the data now. */
  readonly handoffs: readonly PendingTransfer[]
  /** Partitions that change hands without handoff because their holder is removed. */
  readonly dropped: readonly number[]
  /** Ring transitions needed to reach the final ring: 1 when the ring changes, else 0. */
  readonly transitions: number
}

/** A planned transition: the state it was made from, the state it leads to, and its report. */
export interface Plan {
  /** The state the plan was made from; {@link commit} refuses any other. */
  readonly basis: ClusterState
  /** The changes planned. */
  readonly changes: Staged
  /** The state after the commit: epoch one higher, claimed by the planner. */
  readonly next: ClusterState
  readonly report: ClusterPlanReport
}

/** No staged changes. */
export const noChanges: Staged = []

/**
 * Adds `change` to `staged` after checking it against `state`. Throws {@link MembershipError} when a
 * member is unknown, in the wrong status or role, down where a handoff needs it up, or already has
 * a staged change.
 */
export function stage(staged: Staged, state: ClusterState, change: StagedChange): Staged {
  const involved = (c: StagedChange) => ('by' in c ? [c.id, c.by] : [c.id])
  for (const id of involved(change)) {
    if (staged.some((c) => involved(c).includes(id))) {
      throw new MembershipError(`${id} already has a staged change; clear first`)
    }
  }
  checkChange(state, change)
  return [...staged, change]
}

/** Drops every staged change. */
export function clear(): Staged {
  return noChanges
}

/**
 * The next cluster state if `changes` were committed by `actor`, and a report of its ring change,
 * handoffs, ownership before and after, and violations. Called with no changes it reconciles the ring
 * with the members (after a concurrent commit lost, say). Throws {@link MembershipError} if a change is
 * no longer valid, no owner would remain, or there is nothing to do, and claim's InvalidArgumentError
 * for a bad `targetN` or `partitionCount`.
 */
export function plan(
  state: ClusterState,
  changes: Staged,
  actor: MemberId,
  init: PlanInit = {},
): Plan {
  changes.reduce((staged, change) => stage(staged, state, change), noChanges)
  const next = applyChanges(state.members, changes)
  const claimants = next.filter((m) => m.role === 'owner' && m.lifecycle === 'valid')
  if (claimants.length === 0) throw new MembershipError('no owner would remain to own the ring')

  const before = state.ring && substitute(state.ring, changes)
  const targetN = init.targetN ?? 4
  const members = claimants.map((m) => ({
    id: m.id,
    capacity: m.capacity,
    ...(m.location !== undefined && { location: m.location }),
  }))
  const ring =
    before && sameOwners(before, claimants)
      ? before
      : (init.claim ?? claim)({
          members,
          ...(before && { ring: before }),
          targetN,
          partitionCount: state.ring?.partitionCount ?? init.partitionCount ?? 64,
        }).ring
  const ringChanged = !state.ring || state.ring.owners.some((o, p) => o !== ring.owners[p])
  if (changes.length === 0 && !ringChanged) throw new MembershipError('nothing to plan')

  const removed = new Set(next.filter((m) => m.lifecycle === 'removed').map((m) => m.id))
  const holders = currentOwners(state) ?? []
  const handoffs: PendingTransfer[] = []
  const dropped: number[] = []
  ring.owners.forEach((to, partition) => {
    const from = holders[partition]
    if (from === undefined || from === to) return
    if (removed.has(from)) dropped.push(partition)
    else handoffs.push({ partition, from, to, status: 'awaiting' })
  })

  const committed = settle({
    members: next,
    epoch: state.epoch + 1,
    claimant: actor,
    ring,
    transfers: handoffs,
    version: bump(state.version, actor),
  })
  const report = planReport(state.ring, ring, { targetN, members })
  return {
    basis: state,
    changes,
    next: committed,
    report: { ...report, handoffs, dropped, transitions: ringChanged ? 1 : 0 },
  }
}

/** Adopts `plan`'s next state. Throws {@link StalePlanError} if `state` is not the state the plan was made from. */
export function commit(state: ClusterState, plan: Plan): ClusterState {
  if (!equalStates(state, plan.basis)) {
    throw new StalePlanError('the cluster state changed since the plan was made; plan again')
  }
  return plan.next
}

function checkChange(state: ClusterState, change: StagedChange): void {
  const member = requireMember(state, change.id)
  switch (change.kind) {
    case 'join':
      requireOwner(member, ['joining'], 'join')
      requireUp(member, 'join')
      return
    case 'leave':
      requireOwner(member, ['valid'], 'leave')
      requireUp(member, 'leave; use remove or force-replace')
      return
    case 'remove':
      if (member.lifecycle === 'removed') {
        throw new MembershipError(`${member.id} is already removed`)
      }
      return
    case 'replace':
    case 'force-replace': {
      if (change.id === change.by) throw new MembershipError(`${change.id} cannot replace itself`)
      const force = change.kind === 'force-replace'
      requireOwner(member, force ? ['valid', 'leaving'] : ['valid'], change.kind)
      if (!force) requireUp(member, 'hand off; use force-replace')
      const by = requireMember(state, change.by)
      requireOwner(by, ['joining'], 'replace another member')
      requireUp(by, 'replace another member')
    }
  }
}

function requireOwner(member: Member, allowed: readonly Lifecycle[], what: string): void {
  if (member.role !== 'owner') {
    throw new MembershipError(`${member.id} is a guest and cannot ${what}`)
  }
  if (!allowed.includes(member.lifecycle)) {
    throw new MembershipError(`${member.id} is ${member.lifecycle} and cannot ${what}`)
  }
}

function requireUp(member: Member, what: string): void {
  if (isDown(member)) throw new MembershipError(`${member.id} is down and cannot ${what}`)
}

/** Members after the (checked) changes; each moves a lifecycle forward. */
function applyChanges(members: readonly Member[], changes: Staged): Member[] {
  const next = new Map(members.map((m) => [m.id, m]))
  const set = (id: MemberId, lifecycle: Lifecycle) => {
    const m = next.get(id)
    if (m) next.set(id, { ...m, lifecycle })
  }
  for (const change of changes) {
    switch (change.kind) {
      case 'join':
        set(change.id, 'valid')
        break
      case 'leave':
        set(change.id, 'leaving')
        break
      case 'remove':
        set(change.id, 'removed')
        break
      case 'replace':
      case 'force-replace':
        set(change.id, change.kind === 'replace' ? 'leaving' : 'removed')
        set(change.by, 'valid')
    }
  }
  return [...next.values()].sort(byId)
}

/** `ring` with each replaced member's partitions given to its replacement. */
function substitute(ring: Ring, changes: Staged): Ring {
  const by = new Map<MemberId, MemberId>()
  for (const c of changes)
    if (c.kind === 'replace' || c.kind === 'force-replace') by.set(c.id, c.by)
  if (by.size === 0) return ring
  return { partitionCount: ring.partitionCount, owners: ring.owners.map((o) => by.get(o) ?? o) }
}

function sameOwners(ring: Ring, members: readonly Member[]): boolean {
  const owners = new Set(ring.owners)
  return owners.size === members.length && members.every((m) => owners.has(m.id))
}
