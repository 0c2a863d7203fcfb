import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError, encodeCbor, InvalidArgumentError } from '../../src/core/index.ts'
import { announce, emptyState, markDown } from '../../src/membership/cluster-state.ts'
import {
  checkClusterName,
  decodeHeartbeat,
  decodeStateMessage,
  encodeHeartbeat,
  encodeStateMessage,
  ForeignClusterError,
  type Heartbeat,
  heartbeatTopic,
  stateProtocol,
} from '../../src/membership/gossip-codec.ts'
import { equalDigests, stateDigest } from '../../src/membership/gossip-digest.ts'
import { clusterState } from './arbitraries.ts'
import { cluster } from './helpers.ts'

const heartbeat: Heartbeat = {
  cluster: 'c1',
  member: 'm1',
  incarnation: 2,
  session: 0xffffffff,
  counter: 42,
  digest: stateDigest(cluster(3)),
}

/** What decoding does with `bytes`: the error's code, or 'ok'. Anything but our errors fails the test. */
function outcome(decode: () => unknown): string {
  try {
    decode()
    return 'ok'
  } catch (error) {
    if (error instanceof DecodeError || error instanceof ForeignClusterError) return error.code
    throw error
  }
}

describe('gossip codec', () => {
  it('round-trips heartbeats and state messages', () => {
    expect(decodeHeartbeat(encodeHeartbeat(heartbeat), 'c1')).toEqual(heartbeat)
    expect(encodeHeartbeat(heartbeat).length).toBeLessThan(64)
    fc.assert(
      fc.property(clusterState, (state) => {
        expect(decodeStateMessage(encodeStateMessage('c1', state), 'c1')).toEqual(state)
      }),
      { numRuns: 50 },
    )
  })

  it('refuses messages of another cluster', () => {
    expect(() => decodeHeartbeat(encodeHeartbeat(heartbeat), 'c2')).toThrow(ForeignClusterError)
    expect(() => decodeStateMessage(encodeStateMessage('c2', emptyState), 'c1')).toThrow(
      ForeignClusterError,
    )
  })

  it('rejects malformed heartbeats with DecodeError', () => {
    const fields = (patch: Record<number, unknown>): Uint8Array => {
      const base: unknown[] = [1, 'c1', 'm1', 2, 7, 42, heartbeat.digest]
      for (const [i, v] of Object.entries(patch)) base[Number(i)] = v
      return encodeCbor(base)
    }
    const cases = [
      new Uint8Array([]),
      new Uint8Array([0xff]),
      encodeCbor({ a: 1 }),
      fields({ 0: 2 }),
      fields({ 2: '' }),
      fields({ 3: 0 }),
      fields({ 4: 2 ** 32 }),
      fields({ 5: -1 }),
      fields({ 6: new Uint8Array(7) }),
      fields({ 6: new Uint8Array(9) }),
      encodeCbor([1, 'c1', 'm1', 2, 7, 42]),
      new Uint8Array(2000),
    ]
    expect(cases.map((bytes) => outcome(() => decodeHeartbeat(bytes, 'c1')))).toEqual(
      cases.map(() => 'ERR_DECODE'),
    )
  })

  it('never throws anything but DecodeError on mutated bytes', () => {
    const valid = [encodeHeartbeat(heartbeat), encodeStateMessage('c1', cluster(3))]
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (which, at, bits) => {
          const bytes = valid[which]!.slice()
          bytes[at % bytes.length]! ^= bits
          const decode =
            which === 0 ? () => decodeHeartbeat(bytes, 'c1') : () => decodeStateMessage(bytes, 'c1')
          expect(['ok', 'ERR_DECODE', 'ERR_FOREIGN_CLUSTER']).toContain(outcome(decode))
        },
      ),
    )
  })

  it('bounds state messages by the state size limit', () => {
    const bytes = encodeStateMessage('c1', cluster(8))
    expect(outcome(() => decodeStateMessage(bytes, 'c1', { bytesMax: 64 }))).toBe('ERR_DECODE')
  })

  it('names topics and protocols per cluster and checks cluster names', () => {
    expect(heartbeatTopic('c1')).toBe('/solar-orbit/c1/membership-heartbeat/1.0.0')
    expect(stateProtocol('c1')).toBe('/solar-orbit/c1/membership-state/1.0.0')
    for (const bad of ['', 'a/b', 'x'.repeat(65), 'a b']) {
      expect(() => checkClusterName(bad)).toThrow(InvalidArgumentError)
    }
    expect(() => checkClusterName('prod-eu.1_a')).not.toThrow()
  })
})

describe('state digest', () => {
  it('is equal for equal states and differs for different ones', () => {
    const a = cluster(4)
    expect(equalDigests(stateDigest(a), stateDigest(structuredClone(a)))).toBe(true)
    const b = markDown(a, 'm2', 'm1')
    const c = announce(a, { id: 'm5' }, 'm5')
    expect(equalDigests(stateDigest(a), stateDigest(b))).toBe(false)
    expect(equalDigests(stateDigest(b), stateDigest(c))).toBe(false)
    expect(stateDigest(a)).toHaveLength(8)
  })

  it('does not trust the version vector alone: same vector, different state, different digest', () => {
    const a = announce(emptyState, { id: 'm1', addresses: ['/a'] }, 'm1')
    const b = announce(emptyState, { id: 'm1', addresses: ['/b'] }, 'm1')
    expect(a.version).toEqual(b.version)
    expect(equalDigests(stateDigest(a), stateDigest(b))).toBe(false)
  })
})
