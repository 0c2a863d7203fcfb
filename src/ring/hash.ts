/**
 * Key hashing: maps a (bucket, key) pair to a 32-bit position on the ring's key space, synchronously
 * and bit-for-bit identically in Node, Deno and browsers (WebCrypto digests are async, so we carry our own).
 *
 * The function is MurmurHash3_x86_32 (Austin Appleby, SMHasher, `MurmurHash3.cpp`, public domain): well
 * distributed in every bit, including the top bits the ring uses to pick a partition, and cheap in
 * JavaScript because it needs only 32-bit multiplies (`Math.imul`). riak_core hashes with SHA-1 onto
 * 2^160; a 32-bit space is ample here because positions only choose one of at most 16384 partitions and
 * the key itself is stored beside its value (position collisions are harmless).
 */

const C1 = 0xcc9e2d51
const C2 = 0x1b873593

/** Width of the key space in bits: positions are integers in [0, 2^32). */
export const KEYSPACE_BITS = 32

/** A bucket or key: a string (hashed as its UTF-8 bytes) or raw bytes. */
export type KeyPart = string | Uint8Array

/**
 * MurmurHash3_x86_32 of `bytes[0, length)` with `seed`, as an unsigned 32-bit integer. Matches the
 * reference implementation (SMHasher) and its published test vectors.
 */
export function murmur3x86_32(bytes: Uint8Array, seed = 0, length = bytes.length): number {
  let h = seed >>> 0
  const blocks = length & ~3
  let i = 0
  for (; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  const rest = length & 3
  if (rest > 0) {
    let k = 0
    if (rest === 3) k ^= bytes[i + 2]! << 16
    if (rest >= 2) k ^= bytes[i + 1]! << 8
    k ^= bytes[i]!
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
  }
  h ^= length
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * Scratch space for the encoded pair, grown on demand. Hashing is synchronous and never re-entrant, so
 * one buffer serves every call; it only saves an allocation per lookup and is never observable.
 */
let scratch = new Uint8Array(256)

function ensureScratch(bytes: number): void {
  if (scratch.length >= bytes) return
  const grown = new Uint8Array(Math.max(bytes, scratch.length * 2))
  grown.set(scratch)
  scratch = grown
}

/** Writes `part` at `offset` in the scratch buffer and returns the number of bytes written. */
function writePart(part: KeyPart, offset: number): number {
  if (typeof part !== 'string') {
    ensureScratch(offset + part.length)
    scratch.set(part, offset)
    return part.length
  }
  return writeUtf8(part, offset)
}

/**
 * Encodes `text` as UTF-8 at `offset` in the scratch buffer, as `TextEncoder` would (a lone surrogate
 * becomes U+FFFD), and returns the number of bytes written. A hand-written loop: for the short keys of
 * a lookup it is several times faster than `TextEncoder.encodeInto`.
 */
function writeUtf8(text: string, offset: number): number {
  // A UTF-16 code unit encodes to at most 3 UTF-8 bytes.
  ensureScratch(offset + text.length * 3)
  const out = scratch
  let o = offset
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i)
    if (c < 0x80) {
      out[o++] = c
    } else if (c < 0x800) {
      out[o++] = 0xc0 | (c >>> 6)
      out[o++] = 0x80 | (c & 0x3f)
    } else {
      if (c >= 0xd800 && c < 0xe000) {
        const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0
        if (c < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
          const code = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
          out[o++] = 0xf0 | (code >>> 18)
          out[o++] = 0x80 | ((code >>> 12) & 0x3f)
          out[o++] = 0x80 | ((code >>> 6) & 0x3f)
          out[o++] = 0x80 | (code & 0x3f)
          i++
          continue
        }
        c = 0xfffd
      }
      out[o++] = 0xe0 | (c >>> 12)
      out[o++] = 0x80 | ((c >>> 6) & 0x3f)
      out[o++] = 0x80 | (c & 0x3f)
    }
  }
  return o - offset
}

/** The bytes of a bucket or key: a string as its UTF-8 (as {@link hashKey} reads it), bytes as they are. */
export function keyPartBytes(part: KeyPart): Uint8Array {
  if (typeof part !== 'string') return part
  // Written first: writing may replace the scratch buffer with a larger one.
  const length = writeUtf8(part, 0)
  return scratch.slice(0, length)
}

/**
 * The ring position of `key` in `bucket`: MurmurHash3_x86_32 (seed 0) of the unambiguous encoding
 * `u32be(byteLength(bucket)) ‖ bucket ‖ key`, so ("ab", "c") and ("a", "bc") never collide by construction.
 * Strings are taken as UTF-8; a string and its UTF-8 bytes hash alike.
 */
export function hashKey(bucket: KeyPart, key: KeyPart): number {
  const bucketBytes = writePart(bucket, 4)
  scratch[0] = bucketBytes >>> 24
  scratch[1] = (bucketBytes >>> 16) & 0xff
  scratch[2] = (bucketBytes >>> 8) & 0xff
  scratch[3] = bucketBytes & 0xff
  const keyBytes = writePart(key, 4 + bucketBytes)
  return murmur3x86_32(scratch, 0, 4 + bucketBytes + keyBytes)
}
