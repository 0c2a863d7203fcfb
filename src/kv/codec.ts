/**
 * The KV vnode's small records besides objects: its epoch record, and one handoff item. CBOR through
 * `cborg`, validated on decode with `DecodeError`.
 *
 * - epoch record, format 1: `[1, epoch, clean]` where `clean` is 1 when the incarnation that wrote it
 *   stopped cleanly (every write it made is durable) and 0 while it runs;
 * - handoff item, format 1: `[1, storageKey, objectBytes]`.
 */
import { encode } from 'cborg'
import { DecodeError } from '../core/index.ts'
import { parseObjectKey } from './keys.ts'
import { decodeCbor, decodeObject, type KvObject } from './object.ts'

/** The persisted epoch of a KV vnode. */
export interface EpochRecord {
  /** The epoch of the vnode's actor id. */
  readonly epoch: string
  /** True when the incarnation stopped cleanly, so the epoch may be reused. */
  readonly clean: boolean
}

/** Bytes a handoff item may have beyond its object: the storage key and framing. */
export const HANDOFF_ITEM_OVERHEAD_BYTES = 128 * 1024

/** `record` as bytes. */
export function encodeEpochRecord(record: EpochRecord): Uint8Array {
  return encode([1, record.epoch, record.clean ? 1 : 0])
}

/** The record in `bytes`; throws `DecodeError` when they are not a valid format-1 record. */
export function decodeEpochRecord(bytes: Uint8Array): EpochRecord {
  const raw = decodeCbor(bytes, 'epoch record')
  if (!Array.isArray(raw) || raw.length !== 3 || raw[0] !== 1) {
    throw new DecodeError('epoch record must be [1, epoch, clean]')
  }
  const [, epoch, clean] = raw as [unknown, unknown, unknown]
  if (typeof epoch !== 'string' || epoch === '' || epoch.includes(':')) {
    throw new DecodeError('epoch must be a non-empty string without ":"')
  }
  if (clean !== 0 && clean !== 1) throw new DecodeError('clean flag must be 0 or 1')
  return { epoch, clean: clean === 1 }
}

/** One object on the wire of a handoff. */
export function encodeHandoffItem(storageKey: Uint8Array, objectBytes: Uint8Array): Uint8Array {
  return encode([1, storageKey, objectBytes])
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
  if (bytes.length > bytesMax) {
    throw new DecodeError(`handoff item is ${bytes.length} bytes, over the limit of ${bytesMax}`)
  }
  const raw = decodeCbor(bytes, 'handoff item')
  if (!Array.isArray(raw) || raw.length !== 3 || raw[0] !== 1) {
    throw new DecodeError('handoff item must be [1, key, object]')
  }
  const [, storageKey, objectBytes] = raw as [unknown, unknown, unknown]
  if (!(storageKey instanceof Uint8Array) || parseObjectKey(storageKey) === undefined) {
    throw new DecodeError('handoff item key is not an object key')
  }
  if (!(objectBytes instanceof Uint8Array))
    throw new DecodeError('handoff item object must be bytes')
  return { storageKey, object: decodeObject(objectBytes) }
}
