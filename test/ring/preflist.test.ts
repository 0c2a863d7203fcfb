import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/core/index.ts'
import { claim, createRing, keyPartition, preflist } from '../../src/ring/index.ts'

// Partitions 0..15 owned by a b c d e f g h a b c … (a perfect stripe of 8).
const members = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
const ring = createRing(Array.from({ length: 16 }, (_, p) => members[p % 8]!))
const upAll = () => true
const downSet =
  (...down: string[]) =>
  (m: string) =>
    !down.includes(m)

describe('preflist', () => {
  it('lists the owners of the n partitions from the key partition when all are up', () => {
    expect(preflist(ring, 14, 3, upAll)).toEqual([
      { partition: 14, member: 'g', kind: 'primary' },
      { partition: 15, member: 'h', kind: 'primary' },
      { partition: 0, member: 'a', kind: 'primary' },
    ])
  })

  it('starts at the partition of a key', () => {
    const key = { bucket: 'users', key: 'alice' }
    const start = keyPartition(ring, 'users', 'alice')
    expect(preflist(ring, key, 2, upAll).map((e) => e.partition)).toEqual([start, (start + 1) % 16])
  })

  it('replaces a down owner by the next up member beyond the primaries', () => {
    expect(preflist(ring, 2, 3, downSet('d'))).toEqual([
      { partition: 2, member: 'c', kind: 'primary' },
      { partition: 3, member: 'f', kind: 'fallback' },
      { partition: 4, member: 'e', kind: 'primary' },
    ])
  })

  it('skips down members and members already listed when choosing fallbacks', () => {
    expect(preflist(ring, 0, 3, downSet('a', 'b', 'd', 'e'))).toEqual([
      { partition: 0, member: 'f', kind: 'fallback' },
      { partition: 1, member: 'g', kind: 'fallback' },
      { partition: 2, member: 'c', kind: 'primary' },
    ])
  })

  it('repeats members on distinct partitions when too few are up, and drops entries when none is', () => {
    // Only c and h are up; beyond the primaries (0..2) h owns 7 and 15, c owns 10. The second
    // fallback must repeat a member: the first up owner round the ring on a partition not used yet.
    expect(preflist(ring, 0, 3, (m) => m === 'c' || m === 'h')).toEqual([
      { partition: 0, member: 'h', kind: 'fallback' },
      { partition: 1, member: 'c', kind: 'fallback' },
      { partition: 2, member: 'c', kind: 'primary' },
    ])
    // Only h: its two partitions beyond the primaries stand in for two of the three.
    expect(preflist(ring, 0, 3, (m) => m === 'h').map((e) => [e.partition, e.member])).toEqual([
      [0, 'h'],
      [1, 'h'],
    ])
    expect(preflist(ring, 0, 3, () => false)).toEqual([])
  })

  it('rejects bad n and partitions', () => {
    expect(() => preflist(ring, 0, 0, upAll)).toThrow(InvalidArgumentError)
    expect(() => preflist(ring, 0, 17, upAll)).toThrow(InvalidArgumentError)
    expect(() => preflist(ring, 16, 3, upAll)).toThrow(InvalidArgumentError)
  })

  it('never lists a member twice while enough are up, on a spaced ring', () => {
    const ids = Array.from({ length: 12 }, (_, i) => `m${i}`)
    const spaced = claim({
      members: ids.map((id) => ({ id })),
      targetN: 4,
      partitionCount: 256,
    }).ring
    fc.assert(
      fc.property(
        fc.nat(255),
        fc.integer({ min: 1, max: 4 }),
        fc.subarray(ids, { maxLength: 8 }),
        (partition, n, down) => {
          const entries = preflist(spaced, partition, n, (m) => !down.includes(m))
          expect(entries).toHaveLength(n)
          expect(new Set(entries.map((e) => e.member)).size).toBe(n)
          entries.forEach((e, i) => {
            expect(e.partition).toBe((partition + i) % 256)
            expect(down).not.toContain(e.member)
            expect(e.kind).toBe(spaced.owners[e.partition] === e.member ? 'primary' : 'fallback')
          })
        },
      ),
    )
  })
})
