import { describe, expect, it } from 'vitest'
import type { TransferProgress } from '../../src/handoff/index.ts'
import { plannedTransfers } from '../../src/handoff/index.ts'
import {
  announce,
  type ClusterState,
  commit,
  completeTransfer,
  emptyState,
  markDown,
  plan,
} from '../../src/membership/index.ts'
import { fill, holds, keysOf, SimCluster, snapshot } from './helpers.ts'

const init = { partitionCount: 8, targetN: 2 }

function committed(ids: readonly string[]): ClusterState {
  const state = ids.reduce((s, id) => announce(s, { id }, id), emptyState)
  return commit(
    state,
    plan(
      state,
      ids.map((id) => ({ kind: 'join', id }) as const),
      ids[0]!,
      init,
    ),
  )
}

function withJoin(state: ClusterState, id: string): ClusterState {
  const announced = announce(state, { id }, id)
  return commit(announced, plan(announced, [{ kind: 'join', id }], id, init))
}

const owned = (state: ClusterState, id: string): number[] =>
  state.ring!.owners.flatMap((owner, p) => (owner === id ? [p] : []))

describe('plannedTransfers', () => {
  it('is empty before the first commit', () => {
    expect(plannedTransfers(emptyState, 'a', [1, 2])).toEqual([])
  })

  it('lists the awaiting transfers from this node, and nothing for data it owns', () => {
    const before = committed(['a', 'b'])
    expect(plannedTransfers(before, 'a', owned(before, 'a'))).toEqual([])
    const state = withJoin(before, 'c')
    const fromA = state.transfers.filter((t) => t.from === 'a')
    expect(fromA.length).toBeGreaterThan(0)
    expect(plannedTransfers(state, 'a', owned(before, 'a'))).toEqual(
      fromA.map((t) => ({
        type: 'ownership',
        partition: t.partition,
        member: 'c',
        targetDown: false,
      })),
    )
    // The receiver holds partial data of its incoming partitions: not a hint to send back.
    expect(plannedTransfers(state, 'c', [fromA[0]!.partition])).toEqual([])
  })

  it('hands a fallback’s data to the current holder, flagged while it is down', () => {
    const state = committed(['a', 'b'])
    const [p] = owned(state, 'a')
    expect(plannedTransfers(state, 'g', [p!])).toEqual([
      { type: 'hinted', partition: p, member: 'a', targetDown: false },
    ])
    expect(plannedTransfers(markDown(state, 'a', 'b'), 'g', [p!])).toEqual([
      { type: 'hinted', partition: p, member: 'a', targetDown: true },
    ])
  })

  it('drives a join end to end: every transfer completes through the callback, data moves', async () => {
    const cluster = new SimCluster()
    const before = committed(['a', 'b'])
    let state = withJoin(before, 'c')
    const nodes = await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        cluster.add(id, {
          scheduler: {
            onComplete: (t) => {
              state = completeTransfer(state, t, t.from)
            },
          },
        }),
      ),
    )
    const keys = keysOf(40)
    const snapshots = new Map<number, string[]>()
    for (const node of nodes.slice(0, 2)) {
      for (const p of owned(before, node.id)) {
        await fill(node, keys.length, p)
        snapshots.set(p, await snapshot(node, keys, p))
      }
    }
    const finished: TransferProgress[] = []
    for (const node of nodes) {
      node.handoff.addEventListener('handoff:finished', (e) => finished.push(e.detail))
      node.handoff.update(plannedTransfers(state, node.id, await node.storage.partitions()))
    }
    await cluster.drive(() => state.transfers.every((t) => t.status === 'complete'))
    expect(finished.map((f) => f.partition).sort()).toEqual(
      state.transfers.map((t) => t.partition).sort(),
    )
    const c = cluster.node('c')
    for (const t of state.transfers) {
      expect(await snapshot(c, keys, t.partition)).toEqual(snapshots.get(t.partition))
      expect(holds(cluster.node(t.from), t.partition)).toBe(false)
    }
    for (const node of nodes) {
      expect(plannedTransfers(state, node.id, await node.storage.partitions())).toEqual([])
    }
  })
})
