/**
 * Recovery scan of one segment file: finds the committed records, tells a torn tail (a crash while
 * appending) from corruption in the middle, and never yields a record that failed its checksum.
 *
 * At a record that does not decode, the scan searches the rest of the file for the next valid record
 * that starts a group. If there is none, the bad bytes are a torn tail: everything from the start of
 * the unfinished group on is reported in `tailOffset`, for the caller to truncate. If there is one,
 * the bad bytes are corruption: a {@link CorruptionError} names the file and offset, the damaged
 * group is skipped, and the scan goes on from the valid record, so the rest stays readable.
 */
import { CorruptionError } from '../../core/errors.ts'
import { type DecodedRecord, decodeRecord, FIRST, LAST } from './record.ts'

/** What {@link scanSegment} found. */
export interface ScanResult {
  /** Records of committed groups, in file order. */
  records: DecodedRecord[]
  /** Where a torn tail starts; undefined when the file ends cleanly. */
  tailOffset: number | undefined
  /** Damaged regions in the middle of the file, each skipped. */
  corruptions: CorruptionError[]
}

/** Scans the segment `buf`, read from the file named `file`. */
export function scanSegment(buf: Uint8Array, file: string): ScanResult {
  const records: DecodedRecord[] = []
  const corruptions: CorruptionError[] = []
  let group: DecodedRecord[] = []
  let groupOffset = -1
  let pos = 0
  while (pos < buf.length) {
    const record = decodeRecord(buf, pos)
    if (record === undefined) {
      const next = nextGroupStart(buf, pos + 1)
      if (next === undefined) {
        return { records, tailOffset: groupOffset >= 0 ? groupOffset : pos, corruptions }
      }
      corruptions.push(new CorruptionError(file, pos, `${next - pos} bytes fail their checksum`))
      group = []
      groupOffset = -1
      pos = next
      continue
    }
    if (record.flags & FIRST) {
      if (groupOffset >= 0) {
        corruptions.push(new CorruptionError(file, groupOffset, 'a group lacks its commit record'))
      }
      group = []
      groupOffset = record.offset
    }
    // A record whose group start was lost to corruption belongs to no group and is skipped.
    if (groupOffset >= 0) group.push(record)
    if (record.flags & LAST && groupOffset >= 0) {
      records.push(...group)
      group = []
      groupOffset = -1
    }
    pos += record.length
  }
  return { records, tailOffset: groupOffset >= 0 ? groupOffset : undefined, corruptions }
}

/** Offset of the first valid record at or after `from` that starts a group. */
function nextGroupStart(buf: Uint8Array, from: number): number | undefined {
  for (let pos = from; pos < buf.length; pos++) {
    // Cheap filter first: the flags byte of a group start has FIRST set and a known operation.
    const flags = buf[pos + 4]
    if (flags === undefined || (flags & 0x7c) !== FIRST) continue
    if (decodeRecord(buf, pos) !== undefined) return pos
  }
  return undefined
}
