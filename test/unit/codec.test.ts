import { describe, expect, it } from 'vitest'
import {
  compareBytes,
  DecodeError,
  decodeCbor,
  encodeCbor,
  equalBytes,
} from '../../src/core/index.ts'

describe('decodeCbor', () => {
  const value = [1, 'text', Uint8Array.of(1, 2, 3), [null, 7]]

  it('returns what encodeCbor encoded, with or without views', () => {
    const bytes = encodeCbor(value)
    expect(decodeCbor(bytes, 1024, 'test')).toEqual(value)
    expect(decodeCbor(bytes, 1024, 'test', { views: true })).toEqual(value)
  })

  it('copies byte strings by default, and returns plain views into the input with views', () => {
    const bytes = encodeCbor(value)
    const copied = (decodeCbor(bytes, 1024, 'test') as unknown[])[2] as Uint8Array
    const viewed = (decodeCbor(bytes, 1024, 'test', { views: true }) as unknown[])[2] as Uint8Array
    expect(copied.buffer).not.toBe(bytes.buffer)
    expect(viewed.buffer).toBe(bytes.buffer)
    expect(Object.getPrototypeOf(viewed)).toBe(Uint8Array.prototype)
    // A view's own slice still copies.
    const sliced = viewed.slice()
    sliced[0] = 99
    expect(viewed[0]).toBe(1)
  })

  it('decodes views of a larger buffer at their offset', () => {
    const inner = encodeCbor([Uint8Array.of(5, 6)])
    const outer = new Uint8Array(inner.length + 3)
    outer.set(inner, 3)
    const [bytes] = decodeCbor(outer.subarray(3), 64, 'test', { views: true }) as [Uint8Array]
    expect([...bytes]).toEqual([5, 6])
    expect(bytes.byteOffset).toBeGreaterThan(3)
  })

  it('stays strict with views: indefinite lengths, non-minimal integers, trailing bytes, oversize', () => {
    for (const views of [false, true]) {
      const bad = [
        Uint8Array.of(0x5f, 0x41, 0x00, 0xff), // indefinite-length bytes
        Uint8Array.of(0x18, 0x01), // 1 encoded in two bytes
        Uint8Array.of(0x01, 0x02), // two items
        Uint8Array.of(0xf7), // undefined
      ]
      for (const bytes of bad) {
        expect(() => decodeCbor(bytes, 64, 'test', { views })).toThrow(DecodeError)
      }
      expect(() => decodeCbor(encodeCbor(new Uint8Array(100)), 64, 'test', { views })).toThrow(
        /over the limit of 64/,
      )
    }
  })
})

describe('byte comparisons', () => {
  it('orders unsigned and lexicographically, shorter prefix first', () => {
    const sorted = [
      Uint8Array.of(),
      Uint8Array.of(0),
      Uint8Array.of(0, 0),
      Uint8Array.of(1),
      Uint8Array.of(127, 255),
      Uint8Array.of(128),
      Uint8Array.of(255),
    ]
    for (let i = 0; i < sorted.length; i++) {
      for (let j = 0; j < sorted.length; j++) {
        expect(Math.sign(compareBytes(sorted[i]!, sorted[j]!))).toBe(Math.sign(i - j))
        expect(equalBytes(sorted[i]!, sorted[j]!)).toBe(i === j)
      }
    }
  })
})
