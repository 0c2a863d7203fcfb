import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/core/index.ts'
import {
  createRing,
  hashKey,
  keyPartition,
  ownedCounts,
  ownerOf,
  partitionBits,
  partitionOfPosition,
} from '../../src/ring/index.ts'

const ringOf = (q: number, members: string[]) =>
  createRing(Array.from({ length: q }, (_, p) => members[p % members.length]!))

describe('partitionBits', () => {
  it.each([
    [8, 3],
    [64, 6],
    [16384, 14],
  ])('accepts %d', (q, bits) => {
    expect(partitionBits(q)).toBe(bits)
  })

  it.each([0, 4, 7, 12, 100, 32768, 8.5, Number.NaN])('rejects %d', (q) => {
    expect(() => partitionBits(q)).toThrow(InvalidArgumentError)
  })
})

describe('ring', () => {
  it('is frozen and copies its owners', () => {
    const owners = Array.from({ length: 8 }, (_, p) => `m${p % 2}`)
    const ring = createRing(owners)
    owners[0] = 'other'
    expect(ring.owners[0]).toBe('m0')
    expect(Object.isFrozen(ring.owners)).toBe(true)
  })

  it('rejects a size that is not a supported power of two', () => {
    expect(() => createRing(['a', 'b', 'c'])).toThrow(InvalidArgumentError)
  })

  it('maps positions to partitions by their top bits', () => {
    expect(partitionOfPosition(0, 64)).toBe(0)
    expect(partitionOfPosition(0xffffffff, 64)).toBe(63)
    expect(partitionOfPosition(0x04000000, 64)).toBe(1)
    expect(partitionOfPosition(0x03ffffff, 64)).toBe(0)
  })

  it('finds the partition and owner of a key', () => {
    const ring = ringOf(1024, ['a', 'b', 'c'])
    const partition = keyPartition(ring, 'bucket', 'key')
    expect(partition).toBe(hashKey('bucket', 'key') >>> 22)
    expect(ownerOf(ring, partition)).toBe(['a', 'b', 'c'][partition % 3])
  })

  it('rejects partitions out of range', () => {
    const ring = ringOf(8, ['a'])
    expect(() => ownerOf(ring, 8)).toThrow(InvalidArgumentError)
    expect(() => ownerOf(ring, -1)).toThrow(InvalidArgumentError)
    expect(() => ownerOf(ring, 1.5)).toThrow(InvalidArgumentError)
  })

  it('counts owned partitions', () => {
    expect(ownedCounts(ringOf(8, ['a', 'b', 'c']))).toEqual(
      new Map([
        ['a', 3],
        ['b', 3],
        ['c', 2],
      ]),
    )
  })
})
