import { describe, expect, it } from 'vitest'
import { autoClaim, designatedClaimant } from '../../src/membership/auto-claim.ts'
import {
  announce,
  type ClusterState,
  emptyState,
  getMember,
  markDown,
} from '../../src/membership/cluster-state.ts'
import { type ClaimInit, claim } from '../../src/ring/index.ts'
import { announceAll, cluster } from './helpers.ts'

const init = { stableMs: 1000, partitionCount: 64 }

describe('auto claim', () => {
  it('commits a new cluster once its member set has held still', () => {
    let state = announceAll(emptyState, ['b', 'a', 'c'])
    expect(designatedClaimant(state)).toBe('a')
    const first = autoClaim(undefined, state, 0, 'a', init)
    expect(first.plan).toBeUndefined()
    expect(autoClaim(first.auto, state, 999, 'a', init).plan).toBeUndefined()
    expect(autoClaim(first.auto, state, 5000, 'b', init).plan).toBeUndefined()
    const done = autoClaim(first.auto, state, 1000, 'a', init)
    expect(done.plan?.report.transitions).toBe(1)
    state = done.state
    expect(state.members.map((m) => m.lifecycle)).toEqual(['valid', 'valid', 'valid'])
    expect(new Set(state.ring!.owners)).toEqual(new Set(['a', 'b', 'c']))
    expect(autoClaim(done.auto, state, 10_000, 'a', init)).toEqual({ auto: done.auto, state })
  })

  it('waits again whenever the member set changes', () => {
    const s = cluster(3)
    const a = autoClaim(undefined, announce(s, { id: 'm4' }, 'm4'), 0, 'm1', init)
    const busier = announce(a.state, { id: 'm5' }, 'm5')
    const b = autoClaim(a.auto, busier, 800, 'm1', init)
    expect(b.auto.sinceMs).toBe(800)
    expect(autoClaim(b.auto, busier, 1500, 'm1', init).plan).toBeUndefined()
    const c = autoClaim(b.auto, busier, 1800, 'm1', init)
    expect(c.plan?.changes).toEqual([
      { kind: 'join', id: 'm4' },
      { kind: 'join', id: 'm5' },
    ])
    expect(getMember(c.state, 'm5')?.lifecycle).toBe('valid')
  })

  it('hands the claimant role to the next member up, and ignores guests and down joiners', () => {
    let s: ClusterState = markDown(cluster(3), 'm1', 'm2')
    expect(designatedClaimant(s)).toBe('m2')
    s = markDown(
      announce(announce(s, { id: 'g', role: 'guest' }, 'g'), { id: 'm0' }, 'm0'),
      'm0',
      'm2',
    )
    expect(designatedClaimant(s)).toBe('m2')
    expect(autoClaim(undefined, s, 0, 'm2', { stableMs: 0 }).plan).toBeUndefined()
  })

  it('brings the ring in line with the valid owners after a lost commit', () => {
    const s = cluster(4)
    const orphaned: ClusterState = {
      ...s,
      members: s.members.map((m) => (m.id === 'm4' ? { ...m, lifecycle: 'leaving' } : m)),
    }
    const step = autoClaim(undefined, orphaned, 0, 'm1', { stableMs: 0 })
    expect(step.plan?.changes).toEqual([])
    expect(step.state.ring!.owners).not.toContain('m4')
  })

  it('stops retrying when claim cannot place every owner', () => {
    let claims = 0
    const counting = {
      stableMs: 0,
      partitionCount: 8,
      targetN: 2,
      claim: (i: ClaimInit) => {
        claims++
        return claim(i)
      },
    }
    const ids = Array.from({ length: 9 }, (_, i) => `m${i + 1}`)
    const s = autoClaim(undefined, announceAll(emptyState, ids), 0, 'm1', counting)
    expect(s.plan?.report.ownedAfter.size).toBe(8)
    const again = autoClaim(s.auto, s.state, 1, 'm1', counting)
    expect(again.plan).toBeUndefined()
    expect(again.auto.failed).toBe('[]')
    const third = autoClaim(again.auto, again.state, 2, 'm1', counting)
    expect(third.plan).toBeUndefined()
    expect(claims).toBe(2)
  })

  it('removes members that stay down, and forgets those that come back', () => {
    const opts = { stableMs: 1000, removeDownAfterMs: 10_000 }
    const s = markDown(markDown(cluster(4), 'm4', 'm1'), 'm3', 'm1')
    const a = autoClaim(undefined, s, 0, 'm1', opts)
    expect([...a.auto.downSinceMs]).toEqual([
      ['m3', 0],
      ['m4', 0],
    ])
    const back = announce(s, { id: 'm3' }, 'm3')
    const b = autoClaim(a.auto, back, 9000, 'm1', opts)
    expect([...b.auto.downSinceMs.keys()]).toEqual(['m4'])
    expect(b.plan).toBeUndefined()
    const c = autoClaim(b.auto, back, 10_000, 'm1', opts)
    expect(c.plan?.changes).toEqual([{ kind: 'remove', id: 'm4' }])
    expect(c.plan?.report.handoffs).toEqual([])
    expect(getMember(c.state, 'm4')?.lifecycle).toBe('removed')
    expect(c.state.ring!.owners).not.toContain('m4')
    expect(c.auto.downSinceMs.size).toBe(0)
  })
})
