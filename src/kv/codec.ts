/**
 * The KV vnode's epoch record, CBOR through `cborg`, validated on decode with `DecodeError`. Format 1:
 * `[1, epoch, clean]` where `clean` is 1 when the incarnation that wrote it stopped cleanly (every
 * write it made is durable) and 0 while it runs.
 */
import { DecodeError, decodeCbor, encodeCbor, readTuple } from '../core/index.ts'

/** The persisted epoch of a KV vnode. */
export interface EpochRecord {
  /** The epoch of the vnode's actor id. */
  readonly epoch: string
  /** True when the incarnation stopped cleanly, so the epoch may be reused. */
  readonly clean: boolean
}

/** The largest epoch record accepted, in bytes. */
const EPOCH_RECORD_BYTES_MAX = 1024

/** `record` as bytes. */
export function encodeEpochRecord(record: EpochRecord): Uint8Array {
  return encodeCbor([1, record.epoch, record.clean ? 1 : 0])
}

/** The record in `bytes`; throws `DecodeError` when they are not a valid format-1 record. */
export function decodeEpochRecord(bytes: Uint8Array): EpochRecord {
  const [version, epoch, clean] = readTuple(
    decodeCbor(bytes, EPOCH_RECORD_BYTES_MAX, 'epoch record'),
    3,
    'epoch record',
  )
  if (version !== 1) throw new DecodeError(`unknown epoch record format ${String(version)}`)
  if (typeof epoch !== 'string' || epoch === '' || epoch.includes(':')) {
    throw new DecodeError('epoch must be a non-empty string without ":"')
  }
  if (clean !== 0 && clean !== 1) throw new DecodeError('clean flag must be 0 or 1')
  return { epoch, clean: clean === 1 }
}
