import { describe, expect, it } from 'vitest'
import { hashKey, keyPartBytes, murmur3x86_32 } from '../../src/ring/index.ts'

const utf8 = (s: string) => new TextEncoder().encode(s)

describe('murmur3x86_32', () => {
  // Published test vectors of MurmurHash3_x86_32 (SMHasher reference implementation).
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['ab', 0x9747b28c, 0x74875592],
    ['abc', 0x9747b28c, 0xc84a62dd],
    ['abcd', 0x9747b28c, 0xf0478627],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ])('hashes %j with seed %d', (text, seed, expected) => {
    expect(murmur3x86_32(utf8(text), seed)).toBe(expected)
  })

  it.each([
    [[0, 0, 0, 0], 0x2362f9de],
    [[0xff, 0xff, 0xff, 0xff], 0x76293b50],
    [[0x21, 0x43, 0x65, 0x87], 0xf55b516b],
  ])('hashes bytes %j', (bytes, expected) => {
    expect(murmur3x86_32(Uint8Array.from(bytes))).toBe(expected)
  })

  it('hashes only the first `length` bytes', () => {
    expect(murmur3x86_32(utf8('abcdef'), 0, 3)).toBe(murmur3x86_32(utf8('abc')))
  })
})

describe('hashKey', () => {
  it('hashes the length-prefixed encoding of bucket and key', () => {
    const expected = murmur3x86_32(Uint8Array.from([0, 0, 0, 2, ...utf8('bk'), ...utf8('key')]))
    expect(hashKey('bk', 'key')).toBe(expected)
  })

  it.each([
    ['bücket', 'ключ'],
    ['emoji', 'a😀b'],
    ['lone surrogates', '\ud800x\udc00'],
    ['high surrogate at the end', 'x\ud83d'],
    ['', '€ ß 中文'],
  ])('treats the strings %j %j and their UTF-8 bytes alike', (bucket, key) => {
    expect(hashKey(bucket, key)).toBe(hashKey(utf8(bucket), utf8(key)))
  })

  it('does not confuse where the bucket ends', () => {
    expect(hashKey('ab', 'c')).not.toBe(hashKey('a', 'bc'))
    expect(hashKey('', 'abc')).not.toBe(hashKey('abc', ''))
  })

  it('handles keys longer than its scratch buffer', () => {
    const long = 'x'.repeat(5000)
    expect(hashKey(long, long)).toBe(hashKey(utf8(long), utf8(long)))
  })

  it('spreads keys evenly over the top bits', () => {
    const buckets = new Array<number>(64).fill(0)
    const keys = 64_000
    for (let i = 0; i < keys; i++) buckets[hashKey('users', `user-${i}`) >>> 26]!++
    // Chi-square with 63 degrees of freedom: the 0.999 quantile is about 104.
    const expected = keys / 64
    const chi2 = buckets.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0)
    expect(chi2).toBeLessThan(104)
  })
})

describe('keyPartBytes', () => {
  it.each([
    ['ascii', 'put-x-12345'],
    ['two- and three-byte', 'bücket ключ € 中文'],
    ['emoji', 'a😀b'],
    ['lone surrogates', '\ud800x\udc00'],
    ['high surrogate at the end', 'x\ud83d'],
    ['empty', ''],
    ['longer than the scratch buffer', 'ключ'.repeat(2000)],
    // Longer than anything before it in this file, so the scratch buffer grows during this call.
    ['that grow the scratch buffer', 'ключ'.repeat(10_000)],
  ])('encodes %s strings as TextEncoder does', (_, text) => {
    expect(keyPartBytes(text)).toEqual(utf8(text))
  })

  it('returns bytes of their own, and bytes as they are', () => {
    const first = keyPartBytes('abc')
    keyPartBytes('xyz')
    expect(first).toEqual(utf8('abc'))
    const raw = Uint8Array.of(1, 2)
    expect(keyPartBytes(raw)).toBe(raw)
  })
})
