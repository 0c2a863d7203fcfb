/**
 * The KV vnode's small records besides objects: its epoch record, and one handoff item. CBOR through
 * `cborg`, validated on decode with `DecodeError`.
 *
 * - epoch record, format 1: `[1, epoch, clean]` where `clean` is 1 when the incarnation that wrote it
 *   stopped cleanly (every write it made is durable) and 0 while it runs;
 * - handoff item, format 1: `[1, storageKey, objectBytes]`.
 */
import { DecodeError, decodeCbor, encodeCbor, readBytes, readTuple } from '../core/index.ts'
import { parseObjectKey } from './keys.ts'
import { decodeObject, type KvObject } from './object.ts'

/** The persisted epoch of a KV vnode. */
export interface EpochRecord {
  /** The epoch of the vnode's actor id. */
  readonly epoch: string
  /** True when the incarnation stopped cleanly, so the epoch may be reused. */
  readonly clean: boolean
}

/** The largest epoch record accepted, in bytes. */
const EPOCH_RECORD_BYTES_MAX = 1024

/** Bytes a handoff item may have beyond its object: the storage key and framing. */
export const HANDOFF_ITEM_OVERHEAD_BYTES = 128 * 1024

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

/** One object on the wire of a handoff. */
export function encodeHandoffItem(storageKey: Uint8Array, objectBytes: Uint8Array): Uint8Array {
  return encodeCbor([1, storageKey, objectBytes])
}

/** A decoded handoff item. */
export interface HandoffItem {
  readonly storageKey: Uint8Array
  readonly object: KvObject
}

/**
 * The item in `bytes`. Throws `DecodeError` when they exceed `objectBytesMax` plus
 * {@link HANDOFF_ITEM_OVERHEAD_BYTES}, or are not a valid format-1 item holding a valid object.
 */
export function decodeHandoffItem(bytes: Uint8Array, objectBytesMax: number): HandoffItem {
  const bytesMax = objectBytesMax + HANDOFF_ITEM_OVERHEAD_BYTES
  const [version, rawKey, rawObject] = readTuple(
    decodeCbor(bytes, bytesMax, 'handoff item'),
    3,
    'handoff item',
  )
  if (version !== 1) throw new DecodeError(`unknown handoff item format ${String(version)}`)
  const storageKey = readBytes(rawKey, 'handoff item key')
  if (parseObjectKey(storageKey) === undefined) {
    throw new DecodeError('handoff item key is not an object key')
  }
  return { storageKey, object: decodeObject(readBytes(rawObject, 'handoff item object')) }
}
