import {
  announce,
  type ClusterState,
  completeTransfer,
  emptyState,
} from '../../src/membership/cluster-state.ts'
import { commit, type PlanInit, plan, type Staged } from '../../src/membership/staging.ts'

export const init: PlanInit = { partitionCount: 64, targetN: 4 }

/** Announces `ids` as owners on `state`, each acting for itself. */
export function announceAll(state: ClusterState, ids: readonly string[]): ClusterState {
  return ids.reduce((s, id) => announce(s, { id }, id), state)
}

/** A committed cluster of owners `m1` … `mn`, with nothing left to transfer. */
export function cluster(n: number): ClusterState {
  const ids = Array.from({ length: n }, (_, i) => `m${i + 1}`)
  const state = announceAll(emptyState, ids)
  const joins: Staged = ids.map((id) => ({ kind: 'join', id }))
  return commit(state, plan(state, joins, 'm1', init))
}

/** `state` with every awaiting transfer completed by its receiver. */
export function finishTransfers(state: ClusterState): ClusterState {
  return state.transfers.reduce((s, t) => completeTransfer(s, t, t.to), state)
}
