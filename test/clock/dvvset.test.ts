import { describe, expect, it } from 'vitest'
import type { DvvSet } from '../../src/clock/index.ts'
import {
  actorId,
  emptySet,
  join,
  lww,
  mustRenewEpoch,
  newEpoch,
  newValue,
  reconcile,
  sync,
  update,
  values,
} from '../../src/clock/index.ts'
import { InvalidArgumentError, SeededRandom } from '../../src/core/index.ts'

const a = 'member-a:e1'
const b = 'member-b:e1'

describe('dvvset', () => {
  it('gives the first write a dot and supersedes it with a write that read it', () => {
    const s1 = update(newValue(undefined, 'v1'), undefined, a)
    expect(s1.entries).toEqual([{ actor: a, counter: 1, values: ['v1'] }])
    const s2 = update(newValue(join(s1), 'v2'), s1, a)
    expect(values(s2)).toEqual(['v2'])
    expect(join(s2)).toEqual([[a, 2]])
  })

  it('keeps concurrent writes as siblings on one coordinator and across replicas', () => {
    const s1 = update(newValue(undefined, 'v1'), undefined, a)
    const s2 = update(newValue(undefined, 'v2'), s1, a)
    expect(values(s2)).toEqual(['v2', 'v1'])
    const onB = update(newValue(undefined, 'w'), undefined, b)
    const merged = sync(s2, onB)
    expect(values(merged)).toEqual(['v2', 'v1', 'w'])
    const resolved = update(newValue(join(merged), 'x'), merged, b)
    expect(values(resolved)).toEqual(['x'])
    expect(values(sync(resolved, s2))).toEqual(['x'])
  })

  it('drops only the values the context covers', () => {
    let s: DvvSet<string> = emptySet()
    s = update(newValue(undefined, 'v1'), s, a)
    const context = join(s)
    s = update(newValue(undefined, 'v2'), s, a)
    s = update(newValue(context, 'v3'), s, a)
    expect(values(s)).toEqual(['v3', 'v2'])
    expect(s.entries).toEqual([{ actor: a, counter: 3, values: ['v3', 'v2'] }])
  })

  it('merges the same actor by counter, keeping unseen values', () => {
    const x: DvvSet<string> = { entries: [{ actor: a, counter: 4, values: ['d4', 'd3'] }] }
    const y: DvvSet<string> = { entries: [{ actor: a, counter: 3, values: ['d3', 'd2'] }] }
    expect(sync(x, y).entries).toEqual([{ actor: a, counter: 4, values: ['d4', 'd3'] }])
    const z: DvvSet<string> = { entries: [{ actor: a, counter: 3, values: [] }] }
    expect(sync(x, z).entries).toEqual([{ actor: a, counter: 4, values: ['d4'] }])
    expect(sync(z, x)).toEqual(sync(x, z))
  })

  it('returns the first set itself when it already holds all of the second', () => {
    const s1 = update(newValue(undefined, 'v1'), undefined, a)
    const s2 = update(newValue(join(s1), 'v2'), s1, a)
    const onB = update(newValue(undefined, 'w'), undefined, b)
    const both = sync(s2, onB)
    // A newer write of the same actor, and a set that holds another's actor too.
    expect(sync(s2, s1)).toBe(s2)
    expect(sync(both, s1)).toBe(both)
    expect(sync(both, onB)).toBe(both)
    expect(sync(s2, s2)).toBe(s2)
    // Anything of the second's that the first lacks makes a new set, the first unchanged.
    expect(sync(s1, s2)).not.toBe(s1)
    expect(sync(s1, s2)).toEqual(s2)
    expect(sync(s2, onB)).not.toBe(s2)
    expect(sync(onB, both)).not.toBe(onB)
    expect(sync(onB, both)).toEqual(both)
    // Values the second superseded are dropped: a new set, though no actor is new.
    const superseded = { entries: [{ actor: a, counter: 2, values: ['v2', 'v1'] }] }
    expect(sync(superseded, s2)).not.toBe(superseded)
    expect(values(sync(superseded, s2))).toEqual(['v2'])
  })
  it('validates contexts', () => {
    expect(() => newValue([[a, 0]], 'v')).toThrow(InvalidArgumentError)
    expect(() => newValue([[a, 1.5]], 'v')).toThrow(InvalidArgumentError)
    expect(() =>
      newValue(
        [
          [a, 1],
          [a, 2],
        ],
        'v',
      ),
    ).toThrow(InvalidArgumentError)
    expect(
      newValue(
        [
          [b, 1],
          [a, 2],
        ],
        'v',
      ).context,
    ).toEqual([
      [a, 2],
      [b, 1],
    ])
  })

  it('reconciles siblings with a merge function and by last-write-wins', () => {
    let s = update(newValue(undefined, { at: 5, v: 'early' }), undefined, a)
    s = sync(s, update(newValue(undefined, { at: 9, v: 'late' }), undefined, b))
    s = sync(s, update(newValue(undefined, { at: 1, v: 'old' }), undefined, 'member-c:e1'))
    const winner = lww(s, (x, y) => x.at - y.at)
    expect(winner.value.v).toBe('late')
    expect(values(update(winner, s, a)).map((x) => x.v)).toEqual(['late'])
    const merged = reconcile(s, (siblings) => ({
      at: 0,
      v: siblings
        .map((x) => x.v)
        .sort()
        .join('+'),
    }))
    expect(merged.value.v).toBe('early+late+old')
    expect(values(update(merged, s, b))).toEqual([merged.value])
    expect(() => lww(emptySet<number>(), (x, y) => x - y)).toThrow(InvalidArgumentError)
  })

  it('asks for a new epoch when the context knows more of the actor than local storage', () => {
    const s1 = update(newValue(undefined, 'v1'), undefined, a)
    const s2 = update(newValue(join(s1), 'v2'), s1, a)
    expect(mustRenewEpoch(newValue(join(s2), 'v3'), s2, a)).toBe(false)
    expect(mustRenewEpoch(newValue(join(s2), 'v3'), s1, a)).toBe(true)
    expect(mustRenewEpoch(newValue(join(s2), 'v3'), undefined, a)).toBe(true)
    expect(mustRenewEpoch(newValue(join(s2), 'v3'), undefined, b)).toBe(false)
  })

  it('loses an acknowledged write when a wiped replica reuses its actor id (kv679), and not with a new epoch', () => {
    // A writes v1, then v2 over it (acknowledged by A and B); A loses its storage; clients write blind to A.
    const writes = (actor: string, vs: string[]): DvvSet<string> =>
      vs.reduce<DvvSet<string>>((s, v) => update(newValue(undefined, v), s, actor), emptySet())
    const v1 = writes(a, ['v1'])
    const onB = update(newValue(join(v1), 'v2'), v1, a)
    expect(values(onB)).toEqual(['v2'])
    const reused = writes(a, ['x', 'y', 'z'])
    expect(values(sync(onB, reused))).not.toContain('v2')
    expect(values(sync(reused, onB))).not.toContain('v2')
    const fresh = actorId('member-a', newEpoch(new SeededRandom(1)))
    const renewed = writes(fresh, ['x', 'y', 'z'])
    expect(values(sync(onB, renewed)).sort()).toEqual(['v2', 'x', 'y', 'z'])
  })
})

describe('actor ids', () => {
  it('joins member and epoch and rejects malformed parts', () => {
    expect(actorId('peer', 'abc')).toBe('peer:abc')
    expect(() => actorId('', 'abc')).toThrow(InvalidArgumentError)
    expect(() => actorId('peer', '')).toThrow(InvalidArgumentError)
    expect(() => actorId('peer', 'a:b')).toThrow(InvalidArgumentError)
  })

  it('draws 64-bit epochs from the random stream', () => {
    const r = new SeededRandom(9)
    const epochs = Array.from({ length: 100 }, () => newEpoch(r))
    expect(new Set(epochs).size).toBe(100)
    for (const e of epochs) expect(e).toMatch(/^[0-9a-f]{16}$/)
    expect(newEpoch(new SeededRandom(9))).toBe(epochs[0])
  })
})
