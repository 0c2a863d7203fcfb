import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, nextFloat, nextInt, SeededRandom } from '../../src/core/index.ts'

describe('SeededRandom', () => {
  it('replays the same stream for the same seed', () => {
    const a = new SeededRandom(42)
    const b = new SeededRandom(42)
    const xs = Array.from({ length: 100 }, () => a.nextU32())
    expect(Array.from({ length: 100 }, () => b.nextU32())).toEqual(xs)
    expect(new Set(xs).size).toBe(100)
  })

  it('gives different streams for different seeds', () => {
    expect(new SeededRandom(1).nextU32()).not.toBe(new SeededRandom(2).nextU32())
  })

  it('forks by label without advancing the parent', () => {
    const parent = new SeededRandom(7)
    const before = new SeededRandom(7).fork('node-1').nextU32()
    parent.nextU32()
    parent.nextU32()
    expect(parent.fork('node-1').nextU32()).toBe(before)
    expect(parent.fork('node-2').nextU32()).not.toBe(before)
    expect(parent.fork('a').fork('b').nextU32()).toBe(
      new SeededRandom(7).fork('a').fork('b').nextU32(),
    )
  })

  it('produces values spread over the range', () => {
    const r = new SeededRandom(3)
    const buckets = new Array(10).fill(0)
    for (let i = 0; i < 10_000; i++) buckets[Math.floor(nextFloat(r) * 10)]++
    for (const count of buckets) expect(count).toBeGreaterThan(850)
    for (let i = 0; i < 1000; i++) {
      const x = nextInt(r, 7)
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThan(7)
    }
  })

  it('rejects bad seeds and bounds', () => {
    expect(() => new SeededRandom(-1)).toThrow(InvalidArgumentError)
    expect(() => new SeededRandom(1.5)).toThrow(InvalidArgumentError)
    expect(() => nextInt(new SeededRandom(1), 0)).toThrow(InvalidArgumentError)
  })
})
