/** The segment scan and record codec of the filesystem storage, on hand-made byte strings. */
import { describe, expect, it } from 'vitest'
import { CorruptionError } from '../../src/core/errors.ts'
import {
  DELETE,
  decodeRecord,
  encodeGroup,
  HEADER_BYTES,
  PUT,
  type RecordOp,
} from '../../src/storage/fs/record.ts'
import { scanSegment } from '../../src/storage/fs/scan.ts'
import { b } from './compliance-cases.ts'

const put = (key: string, value: string, seq: number): RecordOp => ({
  op: PUT,
  key: b(key),
  value: b(value),
  seq,
})
const del = (key: string, seq: number): RecordOp => ({
  op: DELETE,
  key: b(key),
  value: new Uint8Array(0),
  seq,
})

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let pos = 0
  for (const p of parts) {
    out.set(p, pos)
    pos += p.length
  }
  return out
}

const seqs = (buf: Uint8Array) => scanSegment(buf, 'f').records.map((r) => r.seq)

describe('record codec', () => {
  it('round-trips sequence numbers above 2^32 and empty keys and values', () => {
    const buf = encodeGroup([
      { op: PUT, key: new Uint8Array(0), value: new Uint8Array(0), seq: 2 ** 40 + 7 },
    ])
    expect(buf.length).toBe(HEADER_BYTES)
    expect(decodeRecord(buf, 0)).toMatchObject({
      op: PUT,
      seq: 2 ** 40 + 7,
      keyBytes: 0,
      valueBytes: 0,
    })
  })

  it('rejects zeros, a flipped bit anywhere, and a record cut short', () => {
    const buf = encodeGroup([put('key', 'value', 1)])
    expect(decodeRecord(new Uint8Array(64), 0)).toBeUndefined()
    for (let i = 0; i < buf.length; i++) {
      const bad = buf.slice()
      bad[i]! ^= 0x10
      expect(decodeRecord(bad, 0), `bit flip at byte ${i}`).toBeUndefined()
    }
    expect(decodeRecord(buf.subarray(0, buf.length - 1), 0)).toBeUndefined()
  })
})

describe('scanSegment', () => {
  const g1 = encodeGroup([put('a', '1', 1)])
  const g2 = encodeGroup([put('b', '2', 2), del('a', 3), put('c', '3', 4)])
  const g3 = encodeGroup([put('d', '4', 5)])

  it('returns the records of committed groups of a clean file', () => {
    expect(scanSegment(cat(g1, g2, g3), 'f')).toMatchObject({
      tailOffset: undefined,
      corruptions: [],
    })
    expect(seqs(cat(g1, g2, g3))).toEqual([1, 2, 3, 4, 5])
  })

  it('a group cut anywhere is a torn tail starting at the group', () => {
    for (let cut = 1; cut < g2.length; cut++) {
      const scan = scanSegment(cat(g1, g2.subarray(0, cut)), 'f')
      expect(
        scan.records.map((r) => r.seq),
        `cut at ${cut}`,
      ).toEqual([1])
      expect(scan.tailOffset).toBe(g1.length)
      expect(scan.corruptions).toEqual([])
    }
  })

  it('zeros or noise after the last group are a torn tail', () => {
    expect(scanSegment(cat(g1, new Uint8Array(100)), 'f').tailOffset).toBe(g1.length)
    expect(scanSegment(cat(g1, b('not a record at all')), 'f').tailOffset).toBe(g1.length)
  })

  it('damage followed by a valid group is corruption: the damaged group is skipped, the rest kept', () => {
    const damaged = g2.slice()
    damaged[HEADER_BYTES + 30]! ^= 0xff // inside the second record of the group
    const scan = scanSegment(cat(g1, damaged, g3), 'seg')
    expect(scan.records.map((r) => r.seq)).toEqual([1, 5])
    expect(scan.tailOffset).toBeUndefined()
    expect(scan.corruptions).toHaveLength(1)
    expect(scan.corruptions[0]).toBeInstanceOf(CorruptionError)
    expect(scan.corruptions[0]).toMatchObject({ file: 'seg' })
    expect(scan.corruptions[0]!.offset).toBeGreaterThan(g1.length)
  })

  it('a group whose first record is damaged does not leak its later records', () => {
    const damaged = g2.slice()
    damaged[6]! ^= 0x01 // key length of the first record
    const scan = scanSegment(cat(g1, damaged, g3), 'f')
    expect(scan.records.map((r) => r.seq)).toEqual([1, 5])
    expect(scan.corruptions.map((c) => c.offset)).toEqual([g1.length])
  })
})
