/**
 * Merging two cluster states: the join of a semilattice, so it is commutative, associative and
 * idempotent and any order of pairwise gossip exchanges converges (riak_core_gossip's reconcile,
 * redesigned as a state-based CRDT; Shapiro et al., "Conflict-free Replicated Data Types", 2011).
 *
 * The state is a product of independent registers, each merged on its own:
 *
 * - Members: a map from id to record, merged per id. A larger `incarnation` replaces the whole record
 *   (a member that re-joined after removal beats its tombstone). Within one incarnation:
 *   - `lifecycle` keeps the later status (joining < valid < leaving < exiting < removed), so a leave
 *     or a removal cannot be undone by an older copy;
 *   - `liveness` keeps the larger counter (odd means down), so marking down and coming back up are
 *     both increments and the latest of them wins;
 *   - the attributes (role, capacity, location, addresses) keep the larger `attributesVersion`, ties
 *     broken by their canonical text.
 * - The commit: `(epoch, claimant)` ordered lexicographically names each commit uniquely; the newer
 *   commit's ring and transfers replace the older's wholesale. Two copies of the same commit differ
 *   only in transfer completion, which is a grow-only flag (logical or). Should two different
 *   commits ever carry the same name (a claimant that lost its state), the larger canonical text wins.
 * - The version vector: pointwise maximum.
 *
 * A commit that loses to a concurrent one keeps its member changes (they live in the member
 * registers) but not its ring; the next plan reconciles the two, see `staging.ts`. For the same
 * reason a member may read `exiting` while the winning commit still lists transfers from it: handoff
 * follows the transfers, so a member shuts down only once it is exiting and no transfer names it.
 */

import { mergeVectors } from '../clock/index.ts'
import type { MemberId } from '../ring/index.ts'
import {
  attributesKey,
  byId,
  type ClusterState,
  lifecycleRank,
  type Member,
  makeMember,
} from './cluster-state.ts'

/** The least state that includes everything `a` and `b` know. Commutative, associative, idempotent. */
export function merge(a: ClusterState, b: ClusterState): ClusterState {
  if (a === b) return a
  return {
    members: mergeMembers(a.members, b.members),
    ...mergeCommits(a, b),
    version: mergeVectors(a.version, b.version),
  }
}

/** The later of two records of the same member (see the module comment). */
export function mergeMember(a: Member, b: Member): Member {
  if (a.incarnation !== b.incarnation) return a.incarnation > b.incarnation ? a : b
  const lifecycle =
    lifecycleRank[a.lifecycle] >= lifecycleRank[b.lifecycle] ? a.lifecycle : b.lifecycle
  const attributes = compareAttributes(a, b) >= 0 ? a : b
  const counters = {
    incarnation: a.incarnation,
    lifecycle,
    liveness: Math.max(a.liveness, b.liveness),
    attributesVersion: attributes.attributesVersion,
  }
  return makeMember(a.id, counters, attributes)
}

function mergeMembers(a: readonly Member[], b: readonly Member[]): readonly Member[] {
  const byMember = new Map<MemberId, Member>(a.map((m) => [m.id, m]))
  for (const m of b) {
    const other = byMember.get(m.id)
    byMember.set(m.id, other ? mergeMember(other, m) : m)
  }
  return [...byMember.values()].sort(byId)
}

function compareAttributes(a: Member, b: Member): number {
  if (a.attributesVersion !== b.attributesVersion) return a.attributesVersion - b.attributesVersion
  return compareText(attributesKey(a), attributesKey(b))
}

type Commit = Pick<ClusterState, 'epoch' | 'claimant' | 'ring' | 'transfers'>

function mergeCommits(a: ClusterState, b: ClusterState): Commit {
  if (a.epoch !== b.epoch) return commitOf(a.epoch > b.epoch ? a : b)
  if (a.claimant !== b.claimant) {
    return commitOf(compareText(a.claimant ?? '', b.claimant ?? '') > 0 ? a : b)
  }
  if (!sameCommit(a, b)) return commitOf(compareText(commitKey(a), commitKey(b)) > 0 ? a : b)
  const transfers = a.transfers.map((t, i) => {
    const u = b.transfers[i]
    return u?.status === 'complete' ? u : t
  })
  return { ...commitOf(a), transfers }
}

/** Whether two commits agree on everything but completion flags. */
function sameCommit(a: ClusterState, b: ClusterState): boolean {
  const x = a.ring
  const y = b.ring
  if (x?.partitionCount !== y?.partitionCount || a.transfers.length !== b.transfers.length) {
    return false
  }
  if (x && y && x.owners.some((owner, p) => owner !== y.owners[p])) return false
  return a.transfers.every((t, i) => {
    const u = b.transfers[i]
    return u !== undefined && t.partition === u.partition && t.from === u.from && t.to === u.to
  })
}

/** Canonical text of a commit without its completion flags: the tiebreak between different commits of one name. */
function commitKey(state: ClusterState): string {
  const ring = state.ring ? [state.ring.partitionCount, state.ring.owners] : null
  return JSON.stringify([ring, state.transfers.map((t) => [t.partition, t.from, t.to])])
}

function commitOf(state: ClusterState): Commit {
  return {
    epoch: state.epoch,
    ...(state.claimant !== undefined && { claimant: state.claimant }),
    ...(state.ring !== undefined && { ring: state.ring }),
    transfers: state.transfers,
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
