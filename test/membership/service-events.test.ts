import { describe, expect, it } from 'vitest'
import { announce, emptyState, markDown } from '../../src/membership/cluster-state.ts'
import { stateEvents } from '../../src/membership/membership-events.ts'
import { commit, plan } from '../../src/membership/staging.ts'
import { announceAll, cluster, init } from './helpers.ts'

describe('stateEvents', () => {
  it('reports nothing for an unchanged state or a change of attributes', () => {
    const state = cluster(3)
    expect(stateEvents(state, state)).toEqual([])
    expect(stateEvents(state, announce(state, { id: 'm2', addresses: ['/x'] }, 'm2'))).toEqual([])
  })

  it('reports a member going down and coming back up', () => {
    const state = cluster(3)
    const down = markDown(markDown(state, 'm3', 'm1'), 'm2', 'm1')
    expect(stateEvents(state, down)).toEqual([
      { type: 'member:down', detail: 'm2' },
      { type: 'member:down', detail: 'm3' },
    ])
    const up = announce(down, { id: 'm3' }, 'm3')
    expect(stateEvents(down, up)).toEqual([{ type: 'member:up', detail: 'm3' }])
  })

  it('does not report a down member that is removed as up', () => {
    const down = markDown(cluster(3), 'm3', 'm1')
    const removed = commit(down, plan(down, [{ kind: 'remove', id: 'm3' }], 'm1', init))
    const events = stateEvents(down, removed)
    expect(events.map((e) => e.type)).toEqual(['ring:changed'])
  })

  it('reports a ring change on the first commit and on a join, not on a commit that keeps it', () => {
    const three = cluster(3)
    const joining = announce(three, { id: 'm4' }, 'm4')
    const joined = commit(joining, plan(joining, [{ kind: 'join', id: 'm4' }], 'm1', init))
    expect(stateEvents(joining, joined)).toEqual([{ type: 'ring:changed', detail: joined }])
    const guest = announce(joined, { id: 'g1', role: 'guest' }, 'g1')
    expect(stateEvents(joined, guest)).toEqual([])
    const founders = announceAll(emptyState, ['m1', 'm2'])
    const joins = ['m1', 'm2'].map((id) => ({ kind: 'join' as const, id }))
    const first = commit(founders, plan(founders, joins, 'm1', init))
    expect(stateEvents(founders, first)).toEqual([{ type: 'ring:changed', detail: first }])
  })
})
