/** Length-prefixed framing and the request envelope of the libp2p transport. */
import { LengthPrefixedDecoder } from '@libp2p/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError, TooLargeError } from '../../src/core/index.ts'
import { RemoteError } from '../../src/transport/index.ts'
import {
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  peekRequestId,
} from '../../src/transport/libp2p/envelope.ts'
import { encodeFrame, FrameDecoder, prefixLength } from '../../src/transport/libp2p/frame.ts'

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.byteLength
  }
  return out
}

/** Splits `bytes` at the given cut points (taken modulo its length). */
const split = (bytes: Uint8Array, cuts: number[]): Uint8Array[] => {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let from = 0
  for (const to of [...points, bytes.byteLength]) {
    if (to > from) chunks.push(bytes.subarray(from, to))
    from = Math.max(from, to)
  }
  return chunks
}

describe('frames', () => {
  it('round-trips any frames however the stream chunks them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (bodies, cuts) => {
          const wire = concat(bodies.map((b) => encodeFrame([b])))
          const decoder = new FrameDecoder(1024)
          const out = split(wire, cuts).flatMap((chunk) => decoder.push(chunk))
          expect(out).toEqual(bodies)
        },
      ),
    )
  })

  it('writes the unsigned varint prefix libp2p lpStream reads', () => {
    for (const size of [0, 1, 127, 128, 300, 16_383, 16_384, 70_000]) {
      const body = new Uint8Array(size).fill(size & 0xff)
      const frame = encodeFrame([body.subarray(0, size >> 1), body.subarray(size >> 1)])
      expect(frame.byteLength).toBe(prefixLength(size) + size)
      const libp2p = [...new LengthPrefixedDecoder().decode(frame)].map((l) => l.subarray())
      expect(libp2p).toEqual(size === 0 ? [] : [body]) // libp2p's decoder skips empty frames
    }
  })

  it('hands out plain Uint8Arrays, not Node Buffers', () => {
    const [frame] = new FrameDecoder(16).push(Buffer.from(encodeFrame([Uint8Array.of(1, 2)])))
    expect(frame!.constructor).toBe(Uint8Array)
  })

  it('refuses an oversized frame as soon as its prefix arrives', () => {
    const prefix = encodeFrame([new Uint8Array(2000)]).subarray(0, 2)
    const error = (() => {
      try {
        new FrameDecoder(1024).push(prefix)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(TooLargeError)
    expect((error as TooLargeError).sizeBytes).toBe(2000)
    expect((error as TooLargeError).limitBytes).toBe(1024)
  })

  it('refuses a length prefix longer than five bytes, even split across chunks', () => {
    const decoder = new FrameDecoder(1024)
    expect(decoder.push(Uint8Array.of(0xff, 0xff, 0xff))).toEqual([])
    expect(() => decoder.push(Uint8Array.of(0xff, 0xff, 0x01))).toThrow(DecodeError)
  })
})

describe('envelopes', () => {
  const cases: Envelope[] = [
    { kind: 'request', id: 0, payload: new Uint8Array() },
    { kind: 'request', id: 0xffff_ffff, payload: Uint8Array.of(1, 2, 3) },
    { kind: 'response', id: 42, payload: new Uint8Array(1000).fill(9) },
    { kind: 'error', id: 7, code: 'ERR_NOT_OWNER', message: 'vnode 3 moved — élan' },
    { kind: 'error', id: 8, code: 'ERR_X', message: '' },
  ]

  it.each(cases.map((c) => [c.kind, c]))('round-trips a %s', (_kind, envelope) => {
    expect(decodeEnvelope(concat(encodeEnvelope(envelope)))).toEqual(envelope)
  })

  it('sends an error code that is not ERR_SOMETHING as ERR_INTERNAL and cuts long messages', () => {
    const wire = concat(
      encodeEnvelope({ kind: 'error', id: 1, code: 'oops', message: 'é'.repeat(600) }),
    )
    const decoded = decodeEnvelope(wire)
    expect(decoded).toMatchObject({ kind: 'error', code: RemoteError.internalCode })
    expect(decoded.kind === 'error' && new TextEncoder().encode(decoded.message).byteLength).toBe(
      1024,
    )
  })

  const malformed: Array<[string, number[]]> = [
    ['empty', []],
    ['shorter than its header', [1, 0, 0]],
    ['of an unknown kind', [9, 0, 0, 0, 1]],
    ['of kind zero', [0, 0, 0, 0, 1, 5]],
    ['an error without a code', [3, 0, 0, 0, 1]],
    ['an error with a zero code length', [3, 0, 0, 0, 1, 0]],
    ['an error with a truncated code', [3, 0, 0, 0, 1, 5, 69, 82]],
    ['an error with a lowercase code', [3, 0, 0, 0, 1, 3, 101, 114, 114]],
    ['an error whose message is not UTF-8', [3, 0, 0, 0, 1, 1, 69, 0xff, 0xfe]],
  ]

  it.each(malformed)('refuses an envelope %s with DecodeError', (_what, bytes) => {
    expect(() => decodeEnvelope(Uint8Array.from(bytes))).toThrow(DecodeError)
  })

  it('peeks the request id of an envelope with an intact header only', () => {
    expect(peekRequestId(Uint8Array.of(9, 0, 0, 1, 2))).toBe(258)
    expect(peekRequestId(Uint8Array.of(1, 0))).toBeUndefined()
  })
})
