/**
 * Length-prefixed framing of a byte stream: each frame is an unsigned LEB128 varint length (the
 * multiformats `unsigned-varint`, as libp2p's `lpStream` writes it) followed by that many bytes. A raw
 * stream is bytes, so one `send` is not one message; the decoder reassembles frames from arbitrary
 * chunks.
 *
 * Written here rather than taken from `@libp2p/utils`' `LengthPrefixedDecoder` so that a malformed
 * prefix fails at once (that decoder treats an over-long varint as "need more bytes" and buffers up to
 * 4 MiB first) and a large frame is assembled into one buffer without re-concatenating every chunk.
 */
import { DecodeError, TooLargeError } from '../../core/index.ts'

/** Bytes a length prefix may take: five 7-bit groups cover every length below 2^35. */
const MAX_PREFIX_BYTES = 5

/** Bytes that a frame's prefix takes for a body of `length` bytes. */
export function prefixLength(length: number): number {
  let bytes = 1
  for (let n = length; n >= 0x80; n = Math.floor(n / 0x80)) bytes++
  return bytes
}

/** Frames, each the length prefix of its parts' total size followed by the parts, in one buffer. */
export function encodeFrames(frames: readonly (readonly Uint8Array[])[]): Uint8Array {
  const lengths = frames.map((parts) => parts.reduce((sum, part) => sum + part.byteLength, 0))
  const out = new Uint8Array(lengths.reduce((sum, n) => sum + prefixLength(n) + n, 0))
  let offset = 0
  frames.forEach((parts, i) => {
    let n = lengths[i]!
    while (n >= 0x80) {
      out[offset++] = (n % 0x80) | 0x80
      n = Math.floor(n / 0x80)
    }
    out[offset++] = n
    for (const part of parts) {
      out.set(part, offset)
      offset += part.byteLength
    }
  })
  return out
}

/** One frame: the length prefix of the parts' total size, then the parts, in one buffer. */
export function encodeFrame(parts: readonly Uint8Array[]): Uint8Array {
  return encodeFrames([parts])
}

/**
 * Reassembles frames from stream chunks. Rejects a length prefix longer than five bytes with
 * {@link DecodeError} and a declared length over `maxFrameBytes` with {@link TooLargeError}, both as
 * soon as the prefix arrives and before any body is buffered. After a throw the stream's framing is
 * lost: the caller must close the stream.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number
  private prefixValue = 0
  private prefixBytes = 0
  /** The body being assembled across chunks, once its prefix is read. */
  private body: Uint8Array | undefined
  private bodyFilled = 0

  /** @param maxFrameBytes largest body accepted, in bytes. */
  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes
  }

  /** Feeds one chunk; returns the frames it completed (bodies without prefix), in order. */
  push(data: Uint8Array): Uint8Array[] {
    // Views of a Node Buffer are Buffers: hand out plain Uint8Arrays, as every runtime has them.
    const chunk =
      data.constructor === Uint8Array
        ? data
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    const frames: Uint8Array[] = []
    let offset = 0
    while (offset < chunk.byteLength) {
      if (this.body !== undefined) {
        const take = Math.min(this.body.byteLength - this.bodyFilled, chunk.byteLength - offset)
        this.body.set(chunk.subarray(offset, offset + take), this.bodyFilled)
        this.bodyFilled += take
        offset += take
        if (this.bodyFilled === this.body.byteLength) {
          frames.push(this.body)
          this.body = undefined
        }
        continue
      }
      const byte = chunk[offset++]!
      this.prefixValue += (byte & 0x7f) * 0x80 ** this.prefixBytes
      this.prefixBytes++
      if (byte >= 0x80) {
        if (this.prefixBytes === MAX_PREFIX_BYTES) {
          throw new DecodeError(`frame length prefix is longer than ${MAX_PREFIX_BYTES} bytes`)
        }
        continue
      }
      const length = this.prefixValue
      this.prefixValue = 0
      this.prefixBytes = 0
      if (length > this.maxFrameBytes) throw new TooLargeError('frame', length, this.maxFrameBytes)
      if (chunk.byteLength - offset >= length) {
        // The whole body is in this chunk: hand out a view, not a copy.
        frames.push(chunk.subarray(offset, offset + length))
        offset += length
      } else {
        this.body = new Uint8Array(length)
        this.bodyFilled = 0
      }
    }
    return frames
  }
}
