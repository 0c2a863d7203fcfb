import { bump, emptyVector, type VersionVector } from '../clock/index.ts'
import { InvalidArgumentError, MembershipError } from '../core/index.ts'
import type { MemberId, Ring } from '../ring/index.ts'

/** `owner` members claim partitions; `guest` peers (a passing browser tab) coordinate and keep hints but own nothing. */
export type MemberRole = 'owner' | 'guest'

/**
 * Where a member is in its life in the cluster, within one incarnation. It only moves forward:
 * `joining` (announced, owns nothing yet) → `valid` (included by a commit) → `leaving` (handing its
 * partitions off) → `exiting` (handed everything off; may shut down) → `removed` (tombstone).
 * A commit may also jump straight to `removed` (remove, force-replace).
 */
export type Lifecycle = 'joining' | 'valid' | 'leaving' | 'exiting' | 'removed'

/** A member's status as operators see it: its lifecycle, or `down` for a joining or valid member marked down. */
export type MemberStatus = Lifecycle | 'down'

/** Order of {@link Lifecycle} values; merge keeps the later one. */
export const lifecycleRank: Readonly<Record<Lifecycle, number>> = {
  joining: 0,
  valid: 1,
  leaving: 2,
  exiting: 3,
  removed: 4,
}

/**
 * One member's record. Three registers merge independently within an incarnation: the lifecycle
 * (the later one wins), liveness (the larger counter wins) and the attributes (the larger
 * `attributesVersion` wins). A larger incarnation replaces the whole record.
 */
export interface Member {
  /** The member's peer id. */
  readonly id: MemberId
  /** Bumped when the member (re)joins after being removed or exiting; starts at 1. */
  readonly incarnation: number
  /** Where the member is in its life in the cluster; see {@link statusOf} for the status with `down`. */
  readonly lifecycle: Lifecycle
  /** A counter that is odd while the member is marked down; marking down and coming back up each add one. */
  readonly liveness: number
  /** Bumped by the member whenever it changes its role, capacity, location or addresses. */
  readonly attributesVersion: number
  /** Whether the member claims partitions. */
  readonly role: MemberRole
  /** Relative weight for claim; a positive number. */
  readonly capacity: number
  /** Failure domain (rack, zone, region), if known. */
  readonly location?: string
  /** Where to reach the member (multiaddrs), in the member's order. */
  readonly addresses: readonly string[]
}

/** Handing one partition's data from its current holder to its new owner (riak_core's `next` list). */
export interface PendingTransfer {
  readonly partition: number
  /** The member that holds the data now. */
  readonly from: MemberId
  /** The partition's owner in the ring. */
  readonly to: MemberId
  /** `complete` once the new owner holds the data; never goes back within one commit. */
  readonly status: 'awaiting' | 'complete'
}

/**
 * The cluster state: one immutable value that every member gossips and merges (see `merge.ts`).
 * `ring` is the ownership the latest commit aims for; until a partition's transfer completes, its
 * data (and its primary role) stay with the transfer's `from` (see {@link currentOwners}).
 */
export interface ClusterState {
  /** Every member ever seen, tombstones included, sorted by id. */
  readonly members: readonly Member[]
  /** Number of the latest commit; 0 before the first. */
  readonly epoch: number
  /** Who made commit `epoch`; absent before the first commit. */
  readonly claimant?: MemberId
  /** Target ownership of commit `epoch`; absent before the first commit. */
  readonly ring?: Ring
  /** Handoffs that commit `epoch` asked for, sorted by partition, at most one per partition. */
  readonly transfers: readonly PendingTransfer[]
  /** Changes seen, per actor. */
  readonly version: VersionVector
}

/** A member as it announces itself. */
export interface MemberInit {
  /** The member's peer id; not empty. */
  readonly id: MemberId
  /** Default `'owner'`. */
  readonly role?: MemberRole
  /** Relative weight for claim, a positive finite number. Default 1. */
  readonly capacity?: number
  /** Failure domain. Default: none. */
  readonly location?: string
  /** Where to reach the member. Default: none. */
  readonly addresses?: readonly string[]
}

/** The state of a cluster nobody has joined. */
export const emptyState: ClusterState = {
  members: [],
  epoch: 0,
  transfers: [],
  version: emptyVector,
}

/** The record of `id`, or undefined. */
export function getMember(state: ClusterState, id: MemberId): Member | undefined {
  return state.members.find((m) => m.id === id)
}

/** Whether the member is marked down. */
export function isDown(member: Member): boolean {
  return member.liveness % 2 === 1
}

/** The member's status: `down` for a joining or valid member marked down, its lifecycle otherwise. */
export function statusOf(member: Member): MemberStatus {
  const live = member.lifecycle === 'joining' || member.lifecycle === 'valid'
  return live && isDown(member) ? 'down' : member.lifecycle
}

/**
 * Who holds each partition now: the ring's owner, except where a transfer has not completed yet,
 * where it is the transfer's `from`. Undefined before the first commit.
 */
export function currentOwners(state: ClusterState): readonly MemberId[] | undefined {
  if (!state.ring) return undefined
  const owners = [...state.ring.owners]
  for (const t of state.transfers) if (t.status === 'awaiting') owners[t.partition] = t.from
  return owners
}

/**
 * A member announces itself (called by the member, usually on start). Unknown, exiting or removed:
 * it (re)joins with a new incarnation, as `joining` (an owner, which a commit then makes valid) or
 * `valid` (a guest, which owns nothing and so needs no commit). Otherwise its attributes are updated
 * if they changed, and a down mark is lifted (the member is evidently up).
 */
export function announce(state: ClusterState, init: MemberInit, actor: MemberId): ClusterState {
  const fields = attributesOf(init)
  const known = getMember(state, init.id)
  if (!known || known.lifecycle === 'exiting' || known.lifecycle === 'removed') {
    const incarnation = (known?.incarnation ?? 0) + 1
    const lifecycle: Lifecycle = fields.role === 'guest' ? 'valid' : 'joining'
    const counters = { incarnation, lifecycle, liveness: 0, attributesVersion: 0 }
    return withMember(state, makeMember(init.id, counters, fields), actor)
  }
  const changed = attributesKey(known) !== attributesKey(fields)
  if (!changed && !isDown(known)) return state
  const counters = {
    incarnation: known.incarnation,
    lifecycle: known.lifecycle,
    liveness: known.liveness + (isDown(known) ? 1 : 0),
    attributesVersion: known.attributesVersion + (changed ? 1 : 0),
  }
  return withMember(state, makeMember(init.id, counters, changed ? fields : known), actor)
}

/** Marks a member down (for routing around it and for operators); a later `announce` by it lifts the mark. */
export function markDown(state: ClusterState, id: MemberId, actor: MemberId): ClusterState {
  const known = requireMember(state, id)
  if (isDown(known)) return state
  return withMember(state, { ...known, liveness: known.liveness + 1 }, actor)
}

/**
 * Records that the new owner of `transfer.partition` holds its data. If the current commit has no
 * such transfer awaiting (it completed already, or a later commit dropped it), the state is returned
 * unchanged. A leaving member whose last transfer completes becomes `exiting`.
 */
export function completeTransfer(
  state: ClusterState,
  transfer: Pick<PendingTransfer, 'partition' | 'from' | 'to'>,
  actor: MemberId,
): ClusterState {
  const index = state.transfers.findIndex(
    (t) =>
      t.partition === transfer.partition &&
      t.from === transfer.from &&
      t.to === transfer.to &&
      t.status === 'awaiting',
  )
  const found = state.transfers[index]
  if (!found) return state
  const transfers = state.transfers.with(index, { ...found, status: 'complete' as const })
  return settle({ ...state, transfers, version: bump(state.version, actor) })
}

/**
 * Moves every leaving member that owns nothing in the ring and has no transfer left to send to
 * `exiting`. Called after each change that could finish a leave; the caller has already bumped the version.
 */
export function settle(state: ClusterState): ClusterState {
  const owning = new Set(state.ring?.owners)
  for (const t of state.transfers) if (t.status === 'awaiting') owning.add(t.from)
  let changed = false
  const members = state.members.map((m) => {
    if (m.lifecycle !== 'leaving' || owning.has(m.id)) return m
    changed = true
    return { ...m, lifecycle: 'exiting' as const }
  })
  return changed ? { ...state, members } : state
}

/** Canonical text of a member's attributes: the tiebreak between equal attribute versions. */
export function attributesKey(m: MemberAttributes): string {
  return JSON.stringify([m.role, m.capacity, m.location ?? null, m.addresses])
}

/** `state` with `member` put in place (members stay sorted by id) and one more change by `actor`. */
export function withMember(state: ClusterState, member: Member, actor: MemberId): ClusterState {
  const members = state.members.filter((m) => m.id !== member.id)
  members.push(member)
  members.sort(byId)
  return { ...state, members, version: bump(state.version, actor) }
}

/** The record of `id`; throws {@link MembershipError} if the member is unknown. */
export function requireMember(state: ClusterState, id: MemberId): Member {
  const member = getMember(state, id)
  if (!member) throw new MembershipError(`unknown member ${id}`)
  return member
}

/** Orders records by id. */
export function byId(a: { readonly id: MemberId }, b: { readonly id: MemberId }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** The attribute fields of a member. */
export type MemberAttributes = Pick<Member, 'role' | 'capacity' | 'location' | 'addresses'>

/** A member record with a fixed field order; `location` is left out when absent. */
export function makeMember(
  id: MemberId,
  counters: Pick<Member, 'incarnation' | 'lifecycle' | 'liveness' | 'attributesVersion'>,
  attributes: MemberAttributes,
): Member {
  return {
    id,
    incarnation: counters.incarnation,
    lifecycle: counters.lifecycle,
    liveness: counters.liveness,
    attributesVersion: counters.attributesVersion,
    role: attributes.role,
    capacity: attributes.capacity,
    ...(attributes.location !== undefined && { location: attributes.location }),
    addresses: attributes.addresses,
  }
}

function attributesOf(init: MemberInit): MemberAttributes {
  const capacity = init.capacity ?? 1
  if (!(Number.isFinite(capacity) && capacity > 0)) {
    throw new InvalidArgumentError(
      `capacity of ${init.id} must be a positive number, got ${capacity}`,
    )
  }
  if (init.id.length === 0) throw new InvalidArgumentError('member id must not be empty')
  return {
    role: init.role ?? 'owner',
    capacity,
    ...(init.location !== undefined && { location: init.location }),
    addresses: [...(init.addresses ?? [])],
  }
}

/** Whether two states are the same value (every field, every member, every transfer). */
export function equalStates(a: ClusterState, b: ClusterState): boolean {
  return a === b || equalData(a, b)
}

/** Structural equality of plain data; a property holding `undefined` counts as absent. */
function equalData(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  const keys = new Set([...Object.keys(x), ...Object.keys(y)])
  for (const key of keys) if (!equalData(x[key], y[key])) return false
  return true
}
