/**
 * The keydir entry (where the live record of a key is) and the reads that turn entries into
 * verified values: neighbouring records of a segment are read with one read, and every record is
 * checked against its checksum and sequence number before its value is returned.
 */
import { CorruptionError } from '../../core/errors.ts'
import { decodeRecord, HEADER_BYTES } from './record.ts'
import type { Segment } from './segment.ts'

/** Records at most this far apart in a segment are read with one read (the gap is read and dropped). */
const READ_GAP_BYTES = 16 << 10

/** Where the live record of a key is. */
export interface KeyEntry {
  key: string
  segment: Segment
  offset: number
  length: number
  keyBytes: number
  valueBytes: number
  seq: number
}

/**
 * Reads the records of `entries` with one read per run of neighbouring records in a segment and
 * returns the verified values. Entries whose segment was retired meanwhile are left out (the
 * caller reads them again); a checksum failure rejects with {@link CorruptionError}.
 */
export async function readEntries(
  entries: readonly KeyEntry[],
): Promise<Map<KeyEntry, Uint8Array>> {
  const sorted = [...entries].sort((a, b) => a.segment.id - b.segment.id || a.offset - b.offset)
  const runs: KeyEntry[][] = []
  for (const e of sorted) {
    const run = runs.at(-1)
    const last = run?.at(-1)
    if (
      last &&
      last.segment === e.segment &&
      e.offset - (last.offset + last.length) <= READ_GAP_BYTES
    ) {
      run!.push(e)
    } else {
      runs.push([e])
    }
  }
  const values = new Map<KeyEntry, Uint8Array>()
  await Promise.all(runs.map((run) => readRun(run, values)))
  return values
}

/** Reads one run of neighbouring records (sorted by offset) of one segment into `values`. */
async function readRun(run: KeyEntry[], values: Map<KeyEntry, Uint8Array>): Promise<void> {
  const first = run[0]!
  const last = run.at(-1)!
  let bytes: Uint8Array
  try {
    bytes = await first.segment.read(first.offset, last.offset + last.length - first.offset)
  } catch (e) {
    if (first.segment.retired) return
    throw e
  }
  for (const e of run) {
    const at = e.offset - first.offset
    const record = decodeRecord(bytes, at)
    if (record?.seq !== e.seq || record.length !== e.length) {
      throw new CorruptionError(e.segment.path, e.offset, 'checksum mismatch on read')
    }
    values.set(e, bytes.subarray(at + HEADER_BYTES + e.keyBytes, at + e.length))
  }
}
