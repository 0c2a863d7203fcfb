/**
 * The on-disk record: one put or delete of one key, checksummed on its own so a
 * `get` can verify exactly the bytes it reads. An atomic write (a batch, or a single put) is a group
 * of consecutive records whose first carries {@link FIRST} and whose last carries {@link LAST}: the
 * last record is the group's commit marker, and a group without it is never applied.
 *
 * Layout, little-endian, {@link HEADER_BYTES} bytes of header then the key then the value:
 *
 * | offset | bytes | field                                                          |
 * | -----: | ----: | -------------------------------------------------------------- |
 * |      0 |     4 | CRC-32 (IEEE, zlib's) of every following byte of the record    |
 * |      4 |     1 | flags: operation (1 put, 2 delete) \| FIRST 0x40 \| LAST 0x80 |
 * |      5 |     4 | key length                                                     |
 * |      9 |     4 | value length (0 for a delete)                                  |
 * |     13 |     8 | sequence number: orders writes across segments and merges      |
 *
 * An all-zero region never decodes: the CRC of zero bytes is not zero and operation 0 is invalid.
 */
import { crc32 } from 'node:zlib'

/** Bytes before the key. */
export const HEADER_BYTES = 21
/** Operation code of a put. */
export const PUT = 1
/** Operation code of a delete (a tombstone). */
export const DELETE = 2
/** Flag of the first record of a group. */
export const FIRST = 0x40
/** Flag of the last record of a group: the group's commit marker. */
export const LAST = 0x80
const OP_MASK = 0x3f

/** One operation to encode. */
export interface RecordOp {
  op: typeof PUT | typeof DELETE
  key: Uint8Array
  /** Empty for a delete. */
  value: Uint8Array
  seq: number
}

/** A record decoded in place: positions refer to the buffer it was decoded from. */
export interface DecodedRecord {
  op: typeof PUT | typeof DELETE
  flags: number
  seq: number
  /** Offset of the record's first byte. */
  offset: number
  /** Offset of the key; the value follows it. */
  keyOffset: number
  keyBytes: number
  valueBytes: number
  /** Total length of the record. */
  length: number
}

/** Encoded length of one operation. */
export function recordLength(key: Uint8Array, value: Uint8Array): number {
  return HEADER_BYTES + key.length + value.length
}

/** Encoded length of `ops` as one group. */
export function groupLength(ops: readonly RecordOp[]): number {
  let total = 0
  for (const o of ops) total += recordLength(o.key, o.value)
  return total
}

/** Encodes `ops` as one atomic group. `ops` must not be empty. */
export function encodeGroup(ops: readonly RecordOp[]): Uint8Array {
  const out = new Uint8Array(groupLength(ops))
  encodeGroupInto(out, 0, ops)
  return out
}

/** Encodes `ops` as one atomic group into `out` at `pos`; returns the offset after it. */
export function encodeGroupInto(out: Uint8Array, pos: number, ops: readonly RecordOp[]): number {
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!
    out[pos + 4] = o.op | (i === 0 ? FIRST : 0) | (i === ops.length - 1 ? LAST : 0)
    writeU32(out, pos + 5, o.key.length)
    writeU32(out, pos + 9, o.value.length)
    writeU32(out, pos + 13, o.seq % 2 ** 32)
    writeU32(out, pos + 17, Math.floor(o.seq / 2 ** 32))
    out.set(o.key, pos + HEADER_BYTES)
    out.set(o.value, pos + HEADER_BYTES + o.key.length)
    const end = pos + HEADER_BYTES + o.key.length + o.value.length
    writeU32(out, pos, crc32(out.subarray(pos + 4, end)))
    pos = end
  }
  return pos
}

function writeU32(out: Uint8Array, pos: number, value: number): void {
  out[pos] = value
  out[pos + 1] = value >>> 8
  out[pos + 2] = value >>> 16
  out[pos + 3] = value >>> 24
}

/**
 * Decodes the record at `offset` of `buf`, or returns undefined when the bytes there are not a
 * whole, valid record (short, unknown operation, extending past the end, or failing the checksum).
 */
export function decodeRecord(buf: Uint8Array, offset: number): DecodedRecord | undefined {
  if (offset + HEADER_BYTES > buf.length) return undefined
  const view = new DataView(buf.buffer, buf.byteOffset + offset, HEADER_BYTES)
  const flags = view.getUint8(4)
  const op = flags & OP_MASK
  if ((op !== PUT && op !== DELETE) || (flags & ~(OP_MASK | FIRST | LAST)) !== 0) return undefined
  const keyBytes = view.getUint32(5, true)
  const valueBytes = view.getUint32(9, true)
  if (op === DELETE && valueBytes !== 0) return undefined
  const length = HEADER_BYTES + keyBytes + valueBytes
  if (offset + length > buf.length) return undefined
  if (crc32(buf.subarray(offset + 4, offset + length)) !== view.getUint32(0, true)) return undefined
  return {
    op,
    flags,
    seq: view.getUint32(13, true) + view.getUint32(17, true) * 2 ** 32,
    offset,
    keyOffset: offset + HEADER_BYTES,
    keyBytes,
    valueBytes,
    length,
  }
}
