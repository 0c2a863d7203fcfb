/**
 * Auto mode: plan and commit without an operator once the member set has held still for a while, for
 * meshes of browsers where members come and go. A step function driven by the caller's clock: call
 * {@link autoClaim} whenever the cluster state changes and on a timer (every second, say). Only the
 * designated claimant acts, so members do not race each other's commits; if two do (they saw
 * different states), merge keeps the newer commit and the next step reconciles.
 */
import { MembershipError } from '../core/index.ts'
import type { MemberId } from '../ring/index.ts'
import { type ClusterState, isDown, statusOf } from './cluster-state.ts'
import { commit, type Plan, type PlanInit, plan, type StagedChange } from './staging.ts'

/** Options of {@link autoClaim}. */
export interface AutoClaimInit extends PlanInit {
  /** How long the member set must stay unchanged before a commit, in ms. Default 10 000. */
  readonly stableMs?: number
  /**
   * How long a member must have been down before auto mode removes it (without handoff: its
   * partitions go to the others, which rebuild them from replicas), in ms. Default: never.
   */
  readonly removeDownAfterMs?: number
}

/** What auto mode remembers between steps. */
export interface AutoClaimState {
  /** Canonical text of the member set: ids, incarnations, statuses and roles. */
  readonly membership: string
  /** When the member set last changed. */
  readonly sinceMs: number
  /** Since when each member marked down has been seen down. */
  readonly downSinceMs: ReadonlyMap<MemberId, number>
  /** The changes whose plan failed for this member set (claim could not place everyone, say), not to retry. */
  readonly failed?: string
}

/** The outcome of one step. `plan` is set when the step committed; `state` is then `plan.next`. */
export interface AutoClaimStep {
  readonly auto: AutoClaimState
  readonly state: ClusterState
  readonly plan?: Plan
}

/**
 * The member that commits in auto mode: the smallest id among up, valid owners, or among up,
 * joining owners while there are none (a new cluster). Undefined when no owner is up.
 */
export function designatedClaimant(state: ClusterState): MemberId | undefined {
  const up = state.members.filter((m) => m.role === 'owner' && !isDown(m))
  return (up.find((m) => m.lifecycle === 'valid') ?? up.find((m) => m.lifecycle === 'joining'))?.id
}

/**
 * One step of auto mode at time `nowMs` on the member `self`. When `self` is the designated claimant
 * and the member set has not changed for `stableMs`, commits the joins of every joining owner that is
 * up, the removal of members down for `removeDownAfterMs`, and brings the ring in line with the
 * valid owners; does nothing when there is nothing to do.
 */
export function autoClaim(
  auto: AutoClaimState | undefined,
  state: ClusterState,
  nowMs: number,
  self: MemberId,
  init: AutoClaimInit = {},
): AutoClaimStep {
  const current = observe(auto, state, nowMs)
  const idle = { auto: current, state }
  if (designatedClaimant(state) !== self || nowMs - current.sinceMs < (init.stableMs ?? 10_000)) {
    return idle
  }
  const removeAfterMs = init.removeDownAfterMs ?? Number.POSITIVE_INFINITY
  const changes: StagedChange[] = []
  for (const m of state.members) {
    const downSinceMs = current.downSinceMs.get(m.id)
    if (downSinceMs !== undefined && nowMs - downSinceMs >= removeAfterMs) {
      changes.push({ kind: 'remove', id: m.id })
    } else if (m.role === 'owner' && m.lifecycle === 'joining' && !isDown(m)) {
      changes.push({ kind: 'join', id: m.id })
    }
  }
  const key = JSON.stringify(changes)
  if ((changes.length === 0 && !ringStale(state)) || current.failed === key) return idle
  let planned: Plan
  try {
    planned = plan(state, changes, self, init)
  } catch (error) {
    if (!(error instanceof MembershipError)) throw error
    return { auto: { ...current, failed: key }, state }
  }
  const next = commit(state, planned)
  return { auto: observe(current, next, nowMs), state: next, plan: planned }
}

/** `auto` brought up to date with what `state` shows at `nowMs`. */
function observe(
  auto: AutoClaimState | undefined,
  state: ClusterState,
  nowMs: number,
): AutoClaimState {
  const downSinceMs = new Map<MemberId, number>()
  for (const m of state.members) {
    if (isDown(m) && m.lifecycle !== 'removed') {
      downSinceMs.set(m.id, auto?.downSinceMs.get(m.id) ?? nowMs)
    }
  }
  const membership = JSON.stringify(
    state.members
      .filter((m) => m.lifecycle !== 'removed')
      .map((m) => [m.id, m.incarnation, statusOf(m), m.role]),
  )
  if (auto?.membership === membership) return { ...auto, downSinceMs }
  return { membership, sinceMs: nowMs, downSinceMs }
}

/** Whether the ring's owners differ from the valid owners (who are at least one). */
function ringStale(state: ClusterState): boolean {
  const valid = state.members.filter((m) => m.role === 'owner' && m.lifecycle === 'valid')
  const owners = new Set(state.ring?.owners)
  return valid.length > 0 && (owners.size !== valid.length || valid.some((m) => !owners.has(m.id)))
}
