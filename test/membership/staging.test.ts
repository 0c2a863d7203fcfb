import { describe, expect, it } from 'vitest'
import { MembershipError, StalePlanError } from '../../src/core/errors.ts'
import {
  announce,
  type ClusterState,
  currentOwners,
  emptyState,
  getMember,
  markDown,
} from '../../src/membership/cluster-state.ts'
import { merge } from '../../src/membership/merge.ts'
import {
  clear,
  commit,
  noChanges,
  plan,
  type Staged,
  type StagedChange,
  stage,
} from '../../src/membership/staging.ts'
import { announceAll, cluster, finishTransfers, init } from './helpers.ts'

const owned = (state: ClusterState, id: string) => state.ring!.owners.filter((o) => o === id).length
const stageAll = (state: ClusterState, changes: readonly StagedChange[]): Staged =>
  changes.reduce((staged, c) => stage(staged, state, c), noChanges)

describe('plan and commit', () => {
  it('claims a new cluster in one transition', () => {
    const before = announceAll(announce(emptyState, { id: 'g', role: 'guest' }, 'g'), [
      'a',
      'b',
      'c',
      'd',
    ])
    const p = plan(
      before,
      stageAll(
        before,
        ['a', 'b', 'c', 'd'].map((id) => ({ kind: 'join', id })),
      ),
      'a',
      init,
    )
    expect(p.report).toMatchObject({ moves: 64, transitions: 1, handoffs: [], dropped: [] })
    expect([...p.report.ownedAfter.values()]).toEqual([16, 16, 16, 16])
    expect(p.report.violations).toEqual({ spacing: 0, location: 0 })
    const s = commit(before, p)
    expect(s).toMatchObject({ epoch: 1, claimant: 'a', transfers: [] })
    expect(s.members.map((m) => m.lifecycle)).toEqual(['valid', 'valid', 'valid', 'valid', 'valid'])
    expect(s.ring!.owners).not.toContain('g')
  })

  it('joins a member with about Q/(M+1) handoffs from the current holders', () => {
    const s = announce(cluster(4), { id: 'm5' }, 'm5')
    const p = plan(s, stageAll(s, [{ kind: 'join', id: 'm5' }]), 'm1', init)
    expect(p.report.handoffs.length).toBe(p.report.moves)
    expect(p.report.moves).toBeGreaterThanOrEqual(12)
    expect(p.report.moves).toBeLessThanOrEqual(13)
    for (const t of p.report.handoffs) {
      expect(t).toMatchObject({ to: 'm5', status: 'awaiting' })
      expect(s.ring!.owners[t.partition]).toBe(t.from)
    }
    const next = commit(s, p)
    expect(next.transfers).toEqual(p.report.handoffs)
    expect(currentOwners(next)).toEqual(s.ring!.owners)
    expect(currentOwners(finishTransfers(next))).toEqual(next.ring!.owners)
  })

  it('takes one transition for a leave: the leaver exits when its handoffs complete', () => {
    const s = cluster(8)
    const p = plan(s, stageAll(s, [{ kind: 'leave', id: 'm3' }]), 'm1', init)
    expect(p.report.transitions).toBe(1)
    const next = commit(s, p)
    expect(getMember(next, 'm3')?.lifecycle).toBe('leaving')
    expect(owned(next, 'm3')).toBe(0)
    expect(next.transfers.filter((t) => t.from === 'm3')).toHaveLength(owned(s, 'm3'))
    expect(next.transfers.map((t) => t.from)).toEqual(
      next.transfers.map((t) => s.ring!.owners[t.partition]),
    )
    const done = finishTransfers(next)
    expect(getMember(done, 'm3')?.lifecycle).toBe('exiting')
    expect(() => plan(done, noChanges, 'm1', init)).toThrow(MembershipError)
  })

  it('removes a member without handoff', () => {
    const s = cluster(5)
    const p = plan(s, stageAll(s, [{ kind: 'remove', id: 'm2' }]), 'm1', init)
    expect(p.report.dropped).toHaveLength(owned(s, 'm2'))
    expect(p.report.handoffs.every((t) => t.from !== 'm2')).toBe(true)
    const next = commit(s, p)
    expect(getMember(next, 'm2')?.lifecycle).toBe('removed')
    expect(currentOwners(next)).not.toContain('m2')
  })

  it('replaces a member with handoff, and force-replaces without', () => {
    const s = announce(cluster(4), { id: 'n' }, 'n')
    const replaced = commit(
      s,
      plan(s, stageAll(s, [{ kind: 'replace', id: 'm2', by: 'n' }]), 'm1', init),
    )
    expect(replaced.ring!.owners).toEqual(s.ring!.owners.map((o) => (o === 'm2' ? 'n' : o)))
    expect(replaced.transfers.map((t) => [t.from, t.to])).toEqual(
      Array(owned(s, 'm2')).fill(['m2', 'n']),
    )
    expect(getMember(replaced, 'n')?.lifecycle).toBe('valid')
    expect(getMember(finishTransfers(replaced), 'm2')?.lifecycle).toBe('exiting')

    const p = plan(s, stageAll(s, [{ kind: 'force-replace', id: 'm2', by: 'n' }]), 'm1', init)
    expect(p.report).toMatchObject({ handoffs: [], moves: owned(s, 'm2') })
    expect(p.report.dropped).toHaveLength(owned(s, 'm2'))
    expect(getMember(p.next, 'm2')?.lifecycle).toBe('removed')
  })

  it('keeps unfinished handoffs going from the member that holds the data', () => {
    const s = cluster(3)
    const leaving = commit(s, plan(s, stageAll(s, [{ kind: 'leave', id: 'm3' }]), 'm1', init))
    const half = finishTransfers({ ...leaving, transfers: leaving.transfers.slice(0, 3) })
    const withRest = { ...half, transfers: [...half.transfers, ...leaving.transfers.slice(3)] }
    const joined = announce(withRest, { id: 'm4' }, 'm4')
    const next = commit(
      joined,
      plan(joined, stageAll(joined, [{ kind: 'join', id: 'm4' }]), 'm1', init),
    )
    const holders = currentOwners(joined)!
    for (const t of next.transfers) expect(t.from).toBe(holders[t.partition])
    expect(next.transfers.filter((t) => t.from === 'm3').length).toBe(leaving.transfers.length - 3)
    expect(currentOwners(finishTransfers(next))).toEqual(next.ring!.owners)
  })

  it('refuses a stale plan', () => {
    const s = announce(cluster(3), { id: 'm4' }, 'm4')
    const p = plan(s, stageAll(s, [{ kind: 'join', id: 'm4' }]), 'm1', init)
    expect(() => commit(markDown(s, 'm2', 'm1'), p)).toThrow(StalePlanError)
    expect(commit(merge(s, cluster(3)), p)).toBe(p.next)
  })

  it('reconciles the ring after a concurrent commit lost', () => {
    const s = announce(cluster(4), { id: 'm5' }, 'm5')
    const left = commit(s, plan(s, stageAll(s, [{ kind: 'leave', id: 'm4' }]), 'm1', init))
    const joined = commit(s, plan(s, stageAll(s, [{ kind: 'join', id: 'm5' }]), 'm2', init))
    const merged = merge(left, joined)
    expect(merged.claimant).toBe('m2')
    expect(getMember(merged, 'm4')?.lifecycle).toBe('leaving')
    const fixed = commit(merged, plan(merged, noChanges, 'm1', init))
    expect(new Set(fixed.ring!.owners)).toEqual(new Set(['m1', 'm2', 'm3', 'm5']))
    expect(fixed.transfers.some((t) => t.from === 'm4')).toBe(true)
  })
})

describe('staging', () => {
  const s = markDown(
    announceAll(announce(cluster(3), { id: 'g', role: 'guest' }, 'g'), ['n', 'x']),
    'x',
    'm1',
  )

  it.each<[string, StagedChange]>([
    ['an unknown member', { kind: 'join', id: 'nobody' }],
    ['a valid member', { kind: 'join', id: 'm1' }],
    ['a guest', { kind: 'join', id: 'g' }],
    ['a member that is down', { kind: 'join', id: 'x' }],
    ['a joining member leaving', { kind: 'leave', id: 'n' }],
    ['a guest leaving', { kind: 'leave', id: 'g' }],
    ['replacing by a valid member', { kind: 'replace', id: 'm1', by: 'm2' }],
    ['replacing by itself', { kind: 'replace', id: 'm1', by: 'm1' }],
    ['replacing by a member that is down', { kind: 'force-replace', id: 'm1', by: 'x' }],
  ])('refuses %s', (_name, change) => {
    expect(() => stage(noChanges, s, change)).toThrow(MembershipError)
  })

  it('refuses a leave of a member that is down, and a second change for one member', () => {
    const down = markDown(s, 'm2', 'm1')
    expect(() => stage(noChanges, down, { kind: 'leave', id: 'm2' })).toThrow(
      /remove or force-replace/,
    )
    expect(stage(noChanges, down, { kind: 'remove', id: 'm2' })).toHaveLength(1)
    const staged = stage(noChanges, s, { kind: 'replace', id: 'm1', by: 'n' })
    expect(() => stage(staged, s, { kind: 'join', id: 'n' })).toThrow(/already has a staged change/)
    expect(clear()).toEqual([])
  })

  it('refuses plans that leave no owner, or that no longer fit the state', () => {
    const all: StagedChange[] = ['m1', 'm2', 'm3'].map((id) => ({ kind: 'leave', id }))
    expect(() => plan(s, stageAll(s, all), 'm1', init)).toThrow(/no owner would remain/)
    const staged = stageAll(s, [{ kind: 'join', id: 'n' }])
    expect(() => plan(markDown(s, 'n', 'm1'), staged, 'm1', init)).toThrow(MembershipError)
  })
})
