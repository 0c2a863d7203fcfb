import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, MembershipError } from '../../src/core/errors.ts'
import {
  announce,
  type ClusterState,
  completeTransfer,
  currentOwners,
  emptyState,
  getMember,
  markDown,
  statusOf,
} from '../../src/membership/cluster-state.ts'

describe('cluster state', () => {
  it('lets owners announce as joining and guests as valid', () => {
    const s = announce(
      announce(emptyState, { id: 'a', location: 'z1' }, 'a'),
      { id: 'g', role: 'guest' },
      'g',
    )
    expect(getMember(s, 'a')).toEqual({
      id: 'a',
      incarnation: 1,
      lifecycle: 'joining',
      liveness: 0,
      attributesVersion: 0,
      role: 'owner',
      capacity: 1,
      location: 'z1',
      addresses: [],
    })
    expect(statusOf(getMember(s, 'g')!)).toBe('valid')
    expect(s.version).toEqual([
      ['a', 1],
      ['g', 1],
    ])
  })

  it('updates attributes only when they change', () => {
    const s = announce(emptyState, { id: 'a', addresses: ['/1'] }, 'a')
    expect(announce(s, { id: 'a', addresses: ['/1'] }, 'a')).toBe(s)
    const moved = announce(s, { id: 'a', addresses: ['/2'], capacity: 2 }, 'a')
    expect(getMember(moved, 'a')).toMatchObject({
      attributesVersion: 1,
      addresses: ['/2'],
      capacity: 2,
    })
    expect(getMember(announce(moved, { id: 'a' }, 'a'), 'a')).not.toHaveProperty('location')
  })

  it('marks members down and lets them come back by announcing', () => {
    const s = announce(emptyState, { id: 'a' }, 'a')
    const down = markDown(s, 'a', 'b')
    expect(statusOf(getMember(down, 'a')!)).toBe('down')
    expect(markDown(down, 'a', 'b')).toBe(down)
    const up = announce(down, { id: 'a' }, 'a')
    expect(getMember(up, 'a')).toMatchObject({ liveness: 2, incarnation: 1 })
    expect(statusOf(getMember(up, 'a')!)).toBe('joining')
  })

  it('shows a leaving member as leaving even when marked down', () => {
    const s = announce(emptyState, { id: 'a' }, 'a')
    const leaving: ClusterState = {
      ...s,
      members: [{ ...getMember(s, 'a')!, lifecycle: 'leaving' }],
    }
    expect(statusOf(getMember(markDown(leaving, 'a', 'b'), 'a')!)).toBe('leaving')
  })

  it('rejects unknown members and bad attributes', () => {
    expect(() => markDown(emptyState, 'x', 'a')).toThrow(MembershipError)
    expect(() => announce(emptyState, { id: 'a', capacity: 0 }, 'a')).toThrow(InvalidArgumentError)
    expect(() => announce(emptyState, { id: '' }, 'a')).toThrow(InvalidArgumentError)
  })

  it('completes transfers, moves ownership, and lets a finished leaver exit', () => {
    let s = announce(announce(emptyState, { id: 'a' }, 'a'), { id: 'b' }, 'b')
    s = {
      ...s,
      members: s.members.map((m) => ({ ...m, lifecycle: m.id === 'a' ? 'leaving' : 'valid' })),
      epoch: 1,
      claimant: 'b',
      ring: { partitionCount: 8, owners: Array(8).fill('b') },
      transfers: [0, 1].map((partition) => ({ partition, from: 'a', to: 'b', status: 'awaiting' })),
    }
    expect(currentOwners(s)?.slice(0, 3)).toEqual(['a', 'a', 'b'])
    const first = completeTransfer(s, { partition: 0, from: 'a', to: 'b' }, 'b')
    expect(first.transfers[0]?.status).toBe('complete')
    expect(getMember(first, 'a')?.lifecycle).toBe('leaving')
    expect(completeTransfer(first, { partition: 0, from: 'a', to: 'b' }, 'b')).toBe(first)
    expect(completeTransfer(first, { partition: 1, from: 'a', to: 'c' }, 'b')).toBe(first)
    const both = completeTransfer(first, { partition: 1, from: 'a', to: 'b' }, 'b')
    expect(getMember(both, 'a')?.lifecycle).toBe('exiting')
    expect(currentOwners(both)).toEqual(Array(8).fill('b'))
    expect(currentOwners(emptyState)).toBeUndefined()
  })

  it('lets an exiting member rejoin with a new incarnation', () => {
    const s = announce(emptyState, { id: 'a' }, 'a')
    const exiting: ClusterState = {
      ...s,
      members: [{ ...getMember(s, 'a')!, lifecycle: 'exiting' }],
    }
    expect(getMember(announce(exiting, { id: 'a' }, 'a'), 'a')).toMatchObject({
      incarnation: 2,
      lifecycle: 'joining',
    })
  })
})
