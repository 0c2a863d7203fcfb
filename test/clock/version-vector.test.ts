import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bump, compareVectors, emptyVector, mergeVectors } from '../../src/clock/index.ts'
import { version } from '../membership/arbitraries.ts'

describe('version vectors', () => {
  it('bumps one actor and keeps entries sorted', () => {
    const v = bump(bump(bump(emptyVector, 'b'), 'a'), 'b')
    expect(v).toEqual([
      ['a', 1],
      ['b', 2],
    ])
  })

  it('orders vectors by the changes they have seen', () => {
    const a = bump(emptyVector, 'a')
    const ab = bump(a, 'b')
    expect(compareVectors(a, a)).toBe('equal')
    expect(compareVectors(a, ab)).toBe('before')
    expect(compareVectors(ab, a)).toBe('after')
    expect(compareVectors(a, bump(emptyVector, 'b'))).toBe('concurrent')
  })

  it('merges to the least upper bound', () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        const m = mergeVectors(a, b)
        expect(mergeVectors(b, a)).toEqual(m)
        expect(['after', 'equal']).toContain(compareVectors(m, a))
        expect(['after', 'equal']).toContain(compareVectors(m, b))
        expect(mergeVectors(m, a)).toEqual(m)
      }),
    )
  })
})
