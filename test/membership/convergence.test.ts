/**
 * Gossip convergence with every kind of change, commits included: replicas change the state on
 * their own and exchange it pairwise in a random order; once each has merged in all the others, in
 * its own order, all hold the same state, and that state is well formed.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MembershipError } from '../../src/core/errors.ts'
import {
  announce,
  type ClusterState,
  completeTransfer,
  equalStates,
  getMember,
  markDown,
} from '../../src/membership/cluster-state.ts'
import { decodeState, encodeState } from '../../src/membership/codec.ts'
import { merge } from '../../src/membership/merge.ts'
import { commit, plan, type StagedChange } from '../../src/membership/staging.ts'
import { announceAll, cluster, init } from './helpers.ts'

const names = ['m1', 'm2', 'm3', 'm4', 'm5'] as const
const target = fc.constantFrom(...names)
const newcomer = fc.constantFrom('m4' as const, 'm5' as const)
const staged: fc.Arbitrary<StagedChange> = fc.oneof(
  fc.record({ kind: fc.constant('join' as const), id: newcomer }),
  fc.record({ kind: fc.constantFrom('leave' as const, 'remove' as const), id: target }),
  fc.record({
    kind: fc.constantFrom('replace' as const, 'force-replace' as const),
    id: target,
    by: newcomer,
  }),
)
const change = fc.oneof(
  fc.record({ kind: fc.constant('move' as const), address: fc.constantFrom('/a', '/b') }),
  fc.record({ kind: fc.constant('down' as const), id: target }),
  fc.record({ kind: fc.constant('up' as const) }),
  fc.record({ kind: fc.constant('complete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('commit' as const), change: staged }),
  fc.record({ kind: fc.constant('commit' as const), change: staged }),
)
const step = fc.oneof(
  fc.record({ kind: fc.constant('change' as const), at: fc.nat(4), change }),
  fc.record({ kind: fc.constant('gossip' as const), from: fc.nat(4), to: fc.nat(4) }),
)

type Change = typeof change extends fc.Arbitrary<infer T> ? T : never

function apply(state: ClusterState, actor: string, c: Change): ClusterState {
  switch (c.kind) {
    case 'move':
      return announce(state, { id: actor, addresses: [c.address] }, actor)
    case 'down':
      return markDown(state, c.id, actor)
    case 'up':
      return getMember(state, actor)
        ? announce(state, { id: actor, addresses: getMember(state, actor)!.addresses }, actor)
        : state
    case 'complete': {
      const awaiting = state.transfers.filter((t) => t.status === 'awaiting')
      const t = awaiting[c.pick % Math.max(1, awaiting.length)]
      return t ? completeTransfer(state, t, t.to) : state
    }
    case 'commit':
      try {
        return commit(state, plan(state, [c.change], actor, init))
      } catch (error) {
        if (error instanceof MembershipError) return state
        throw error
      }
  }
}

describe('gossip', () => {
  it('converges in any order, to a well-formed state where guests own nothing', () => {
    const start = announce(announceAll(cluster(3), ['m4', 'm5']), { id: 'g', role: 'guest' }, 'g')
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 60 }),
        fc.array(fc.nat(4), { minLength: 1, maxLength: 10 }),
        (steps, order) => {
          const replicas = names.map(() => start)
          for (const s of steps) {
            if (s.kind === 'gossip') replicas[s.to] = merge(replicas[s.to]!, replicas[s.from]!)
            else replicas[s.at] = apply(replicas[s.at]!, names[s.at]!, s.change)
          }
          const results = replicas.map((own, i) =>
            [...order.map((k) => (k + i) % names.length), ...replicas.keys()].reduce(
              (acc, k) => merge(acc, replicas[k]!),
              own,
            ),
          )
          for (const r of results) expect(equalStates(r, results[0]!)).toBe(true)
          const final = results[0]!
          expect(decodeState(encodeState(final))).toEqual(final)
          expect(final.ring!.owners).not.toContain('g')
        },
      ),
      { numRuns: 300 },
    )
  })
})
