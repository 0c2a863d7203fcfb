import { encode } from 'cborg'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError, TooLargeError } from '../../src/core/errors.ts'
import type { ClusterState } from '../../src/membership/cluster-state.ts'
import { emptyState } from '../../src/membership/cluster-state.ts'
import { decodeState, encodeState, STATE_FORMAT_VERSION } from '../../src/membership/codec.ts'
import { commit, plan } from '../../src/membership/staging.ts'
import { clusterState } from './arbitraries.ts'
import { announceAll, cluster } from './helpers.ts'

/** Decodes `bytes`; returns the state, or the DecodeError. Any other exception fails the test. */
function tryDecode(bytes: Uint8Array): ClusterState | DecodeError {
  try {
    return decodeState(bytes)
  } catch (error) {
    if (error instanceof DecodeError) return error
    throw error
  }
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    bits: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('append' as const),
    extra: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
)

function mutate(bytes: Uint8Array, m: MutationOf): Uint8Array {
  const copy = bytes.slice()
  switch (m.kind) {
    case 'truncate':
      return copy.subarray(0, m.at % copy.length)
    case 'flip':
      copy[m.at % copy.length]! ^= m.bits
      return copy
    case 'set':
      copy[m.at % copy.length] = m.value
      return copy
    case 'append':
      return Uint8Array.from([...copy, ...m.extra])
  }
}
type MutationOf =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bits: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'append'; extra: Uint8Array }

describe('cluster state codec', () => {
  it('round-trips any state, deterministically', () => {
    fc.assert(
      fc.property(clusterState, (state) => {
        const bytes = encodeState(state)
        const back = decodeState(bytes)
        expect(back).toEqual(state)
        expect(encodeState(back)).toEqual(bytes)
      }),
      { numRuns: 500 },
    )
  })

  it('round-trips a real cluster in mid-handoff, compactly', () => {
    const s = announceAll(cluster(6), ['m7'])
    const next = commit(s, plan(s, [{ kind: 'join', id: 'm7' }], 'm1', { partitionCount: 64 }))
    expect(next.transfers.length).toBeGreaterThan(0)
    const bytes = encodeState(next)
    expect(decodeState(bytes)).toEqual(next)
    expect(bytes.length).toBeLessThan(400)
  })

  it('gives nothing but a DecodeError or a valid state for mutated input', () => {
    fc.assert(
      fc.property(clusterState, fc.array(mutation, { minLength: 1, maxLength: 3 }), (state, ms) => {
        const bytes = ms.reduce((b, m) => (b.length === 0 ? b : mutate(b, m)), encodeState(state))
        const result = tryDecode(bytes)
        if (!(result instanceof DecodeError))
          expect(decodeState(encodeState(result))).toEqual(result)
      }),
      { numRuns: 2000 },
    )
  })

  it('gives nothing but a DecodeError or a valid state for random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const result = tryDecode(Uint8Array.from([0x87, 0x01, ...bytes]))
        if (!(result instanceof DecodeError))
          expect(decodeState(encodeState(result))).toEqual(result)
        tryDecode(bytes)
      }),
      { numRuns: 2000 },
    )
  })

  it('rejects unknown versions, oversized and malformed input', () => {
    const bytes = encodeState(cluster(3))
    const versioned = (v: number) => encode([v, [], 0, null, null, [], []])
    expect(decodeState(versioned(STATE_FORMAT_VERSION))).toMatchObject({ epoch: 0 })
    expect(() => decodeState(versioned(2))).toThrow(/unknown cluster state format 2/)
    expect(() => decodeState(bytes, { bytesMax: bytes.length - 1 })).toThrow(DecodeError)
    expect(() => encodeState(cluster(3), { bytesMax: 10 })).toThrow(TooLargeError)
    const cases: unknown[] = [
      { version: 1 },
      [1, [], 0, null, null, []],
      [1, [], 1, null, null, [], []],
      [
        1,
        [
          ['b', 1, 0, 0, 0, 0, 1, null, []],
          ['a', 1, 0, 0, 0, 0, 1, null, []],
        ],
        0,
        null,
        null,
        [],
        [],
      ],
      [1, [['a', 0, 0, 0, 0, 0, 1, null, []]], 0, null, null, [], []],
      [1, [['a', 1, 9, 0, 0, 0, 1, null, []]], 0, null, null, [], []],
      [1, [['a', 1, 0, 0, 0, 0, -1, null, []]], 0, null, null, [], []],
      [1, [['a', 1, 0, 0, 0, 0, 1, null, []]], 1, 'a', [6, [0, 0, 0, 0, 0, 0]], [], []],
      [1, [['a', 1, 0, 0, 0, 0, 1, null, []]], 1, 'a', [8, [0, 0, 0, 0, 0, 0, 0, 1]], [], []],
      [
        1,
        [
          ['a', 1, 0, 0, 0, 0, 1, null, []],
          ['b', 1, 0, 0, 0, 0, 1, null, []],
        ],
        1,
        'a',
        [8, [0, 0, 0, 0, 0, 0, 0, 0]],
        [[0, 0, 1, 0]],
        [],
      ],
      [1, [], 0, null, null, [], [['a', 0]]],
      [
        1,
        [],
        0,
        null,
        null,
        [],
        [
          ['b', 1],
          ['a', 1],
        ],
      ],
    ]
    for (const value of cases)
      expect(() => decodeState(encode(value)), JSON.stringify(value)).toThrow(DecodeError)
    expect(() => decodeState(new Uint8Array(100_000).fill(0x81))).toThrow(DecodeError)
    expect(() => decodeState(Uint8Array.from([0x9f, 0x01, 0xff]))).toThrow(DecodeError)
  })
})

describe('cluster state codec at scale', () => {
  it('encodes 16384 partitions and 100 members in a few bytes per partition', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `12D3KooW${String(i).padStart(44, 'x')}`)
    const s = announceAll(emptyState, ids)
    const joins = ids.map((id) => ({ kind: 'join' as const, id }))
    const big = commit(s, plan(s, joins, ids[0]!, { partitionCount: 16384 }))
    const bytes = encodeState(big)
    // At most two bytes per owner (an index), against 54 for a peer id.
    expect(bytes.length).toBeLessThan(16384 * 2 + 100 * 100)
    expect(decodeState(bytes)).toEqual(big)
  })
})
