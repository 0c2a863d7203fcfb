/**
 * One segment file of a partition's log: a name, an open handle and byte accounting for merges.
 * Only the partition's active segment is appended to; the others are read-only until a merge
 * retires them.
 */
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

/** Suffix of segment files. */
export const SEGMENT_SUFFIX = '.seg'

/** File name of segment `id`: zero-padded so names sort like ids. */
export function segmentName(id: number): string {
  return `${String(id).padStart(10, '0')}${SEGMENT_SUFFIX}`
}

/** The id of a segment file name, or undefined for other files. */
export function segmentId(name: string): number | undefined {
  const m = /^(\d{10})\.seg$/.exec(name)
  return m ? Number(m[1]) : undefined
}

/** An open segment file. */
export class Segment {
  readonly id: number
  readonly path: string
  readonly handle: FileHandle
  /** Bytes in the file. */
  size: number
  /** Bytes of records the keydir still points at. */
  liveBytes = 0
  /** True once a merge or clear replaced this segment; reads must look their key up again. */
  retired = false

  constructor(dir: string, id: number, handle: FileHandle, size: number) {
    this.id = id
    this.path = join(dir, segmentName(id))
    this.handle = handle
    this.size = size
  }

  /** Reads `length` bytes at `offset`. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length)
    let done = 0
    while (done < length) {
      const { bytesRead } = await this.handle.read(buf, done, length - done, offset + done)
      if (bytesRead === 0) break
      done += bytesRead
    }
    return done === length ? buf : buf.subarray(0, done)
  }

  /** Appends `data` at the end of the file. */
  async append(data: Uint8Array): Promise<void> {
    let done = 0
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(
        data,
        done,
        data.length - done,
        this.size + done,
      )
      done += bytesWritten
    }
    this.size += data.length
  }

  /** Closes the handle and marks the segment retired. */
  async retire(): Promise<void> {
    this.retired = true
    await this.handle.close()
  }
}
