import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  announce,
  type ClusterState,
  completeTransfer,
  emptyState,
  equalStates,
  getMember,
  markDown,
} from '../../src/membership/cluster-state.ts'
import { merge } from '../../src/membership/merge.ts'
import { clusterState } from './arbitraries.ts'

const runs = { numRuns: 500 }

describe('merge laws', () => {
  it('is commutative', () => {
    fc.assert(
      fc.property(clusterState, clusterState, (a, b) => {
        expect(merge(a, b)).toEqual(merge(b, a))
      }),
      runs,
    )
  })

  it('is associative', () => {
    fc.assert(
      fc.property(clusterState, clusterState, clusterState, (a, b, c) => {
        expect(merge(merge(a, b), c)).toEqual(merge(a, merge(b, c)))
      }),
      runs,
    )
  })

  it('is idempotent', () => {
    fc.assert(
      fc.property(clusterState, clusterState, (a, b) => {
        expect(merge(a, a)).toEqual(a)
        const ab = merge(a, b)
        expect(merge(ab, b)).toEqual(ab)
      }),
      runs,
    )
  })
})

describe('merge', () => {
  const base = announce(announce(emptyState, { id: 'a' }, 'a'), { id: 'b' }, 'b')
  const withMember = (state: ClusterState, id: string, patch: object): ClusterState => ({
    ...state,
    members: state.members.map((m) => (m.id === id ? { ...m, ...patch } : m)),
  })

  it('keeps the later lifecycle and the larger liveness within an incarnation', () => {
    const leaving = withMember(base, 'a', { lifecycle: 'leaving' })
    const down = markDown(base, 'a', 'b')
    const merged = merge(leaving, down)
    expect(getMember(merged, 'a')).toMatchObject({ lifecycle: 'leaving', liveness: 1 })
    expect(merged.version).toEqual([
      ['a', 1],
      ['b', 2],
    ])
  })

  it('lets a new incarnation replace a tombstone', () => {
    const removed = withMember(base, 'a', { lifecycle: 'removed' })
    const rejoined = announce(removed, { id: 'a', addresses: ['/new'] }, 'a')
    expect(getMember(rejoined, 'a')).toMatchObject({ incarnation: 2, lifecycle: 'joining' })
    const stale = withMember(base, 'a', { lifecycle: 'removed', liveness: 3 })
    expect(getMember(merge(stale, rejoined), 'a')).toEqual(getMember(rejoined, 'a'))
  })

  it('keeps the newer attributes', () => {
    const moved = announce(base, { id: 'a', addresses: ['/x'] }, 'a')
    expect(getMember(merge(base, moved), 'a')?.addresses).toEqual(['/x'])
  })

  it('keeps the newer commit, and completion within one commit', () => {
    const ring = { partitionCount: 8, owners: ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'] }
    const one: ClusterState = {
      ...base,
      epoch: 1,
      claimant: 'a',
      ring,
      transfers: [
        { partition: 4, from: 'a', to: 'b', status: 'awaiting' },
        { partition: 5, from: 'a', to: 'b', status: 'awaiting' },
      ],
    }
    const four = completeTransfer(one, { partition: 4, from: 'a', to: 'b' }, 'b')
    const five = completeTransfer(one, { partition: 5, from: 'a', to: 'b' }, 'a')
    expect(merge(four, five).transfers.map((t) => t.status)).toEqual(['complete', 'complete'])
    const two: ClusterState = { ...one, epoch: 2, claimant: 'a', transfers: [] }
    expect(merge(four, two).transfers).toEqual([])
    const rival: ClusterState = { ...one, claimant: 'b', transfers: [] }
    expect(merge(one, rival).claimant).toBe('b')
  })

  it('converges whatever the gossip order', () => {
    const change = fc.oneof(
      fc.record({
        kind: fc.constant('announce' as const),
        id: fc.constantFrom('a', 'b', 'c', 'd'),
      }),
      fc.record({ kind: fc.constant('down' as const), id: fc.constantFrom('a', 'b', 'c', 'd') }),
      fc.record({ kind: fc.constant('move' as const), address: fc.constantFrom('/1', '/2', '/3') }),
    )
    const step = fc.oneof(
      fc.record({ kind: fc.constant('change' as const), at: fc.nat(5), change }),
      fc.record({ kind: fc.constant('gossip' as const), from: fc.nat(5), to: fc.nat(5) }),
    )
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 60 }),
        fc.array(fc.nat(5), { minLength: 1 }),
        (steps, order) => {
          const names = ['a', 'b', 'c', 'd', 'e', 'f']
          const replicas: ClusterState[] = names.map(() => emptyState)
          for (const s of steps) {
            if (s.kind === 'gossip') {
              replicas[s.to] = merge(replicas[s.to]!, replicas[s.from]!)
              continue
            }
            const actor = names[s.at]!
            const state = replicas[s.at]!
            const c = s.change
            if (c.kind === 'announce') replicas[s.at] = announce(state, { id: c.id }, actor)
            else if (c.kind === 'move')
              replicas[s.at] = announce(state, { id: actor, addresses: [c.address] }, actor)
            else if (getMember(state, c.id)) replicas[s.at] = markDown(state, c.id, actor)
          }
          // Every replica folds in every other, each in its own random order.
          const results = replicas.map((own, i) => {
            const rotated = [...order.map((k) => (k + i) % replicas.length), ...replicas.keys()]
            return rotated.reduce((acc, k) => merge(acc, replicas[k]!), own)
          })
          for (const r of results) expect(equalStates(r, results[0]!)).toBe(true)
        },
      ),
      { numRuns: 200 },
    )
  })
})
