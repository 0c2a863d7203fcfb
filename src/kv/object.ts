/**
 * The stored form of one key: a dotted version vector set whose siblings are values or tombstones
 * (riak_kv's `riak_object`, with a DVV set as its clock). Encoded with CBOR through `cborg`
 * (deterministic, so equal objects give equal bytes) and validated on decode with `DecodeError`.
 *
 * Format 1: `[1, entries]`, entries sorted by actor, each `[actor, counter, values]` where `values`
 * (newest first, at most `counter` of them) are byte strings, or `null` for a tombstone.
 */
import { type DvvSet, join, type VersionVector, values } from '../clock/index.ts'
import {
  type DecodeCborOptions,
  DecodeError,
  decodeCbor,
  encodeCbor,
  readCount,
  readList,
  readText,
  readTuple,
  requireAscending,
  TooLargeError,
} from '../core/index.ts'

/** One sibling: the bytes of a value, or `null` for a tombstone (a delete, kept to order it causally). */
export type KvValue = Uint8Array | null

/** What the KV vnode stores per key: a DVV set of values and tombstones. */
export type KvObject = DvvSet<KvValue>

/** The format version {@link encodeObject} writes. */
export const OBJECT_FORMAT_VERSION = 1

/** The live values of `object` (siblings when more than one; none when deleted or absent). */
export function liveValues(object: KvObject | undefined): Uint8Array[] {
  if (object === undefined) return []
  return values(object).filter((value): value is Uint8Array => value !== null)
}

/** The causal context of `object` for the next write (empty for an absent key). */
export function contextOf(object: KvObject | undefined): VersionVector {
  return object === undefined ? [] : join(object)
}

/**
 * An object that carries its own encoding: what {@link decodeObject} and {@link encodeKept} return.
 * Encoding it again costs nothing, which matters where one object travels on: a put's object is
 * stored and then sent to every other replica, a merged object is stored as it arrived, and a stored
 * object goes out in a get reply as it was read. The bytes are private, so an object built from this
 * one (a spread, a sync) never inherits bytes that no longer match it.
 */
class EncodedObject implements KvObject {
  readonly entries: KvObject['entries']
  readonly #bytes: Uint8Array

  constructor(entries: KvObject['entries'], bytes: Uint8Array) {
    this.entries = entries
    this.#bytes = bytes
  }

  /** The bytes `object` carries, if it is one of these. */
  static bytesOf(object: KvObject): Uint8Array | undefined {
    return #bytes in object ? object.#bytes : undefined
  }
}

/**
 * `object` as bytes, which the caller must not change (an object that carries its encoding shares
 * them). Throws `TooLargeError` when they would exceed `bytesMax`.
 */
export function encodeObject(object: KvObject, bytesMax: number): Uint8Array {
  const bytes =
    EncodedObject.bytesOf(object) ??
    encodeCbor([
      OBJECT_FORMAT_VERSION,
      object.entries.map((entry) => [entry.actor, entry.counter, entry.values]),
    ])
  if (bytes.length > bytesMax) throw new TooLargeError('object', bytes.length, bytesMax)
  return bytes
}

/**
 * {@link encodeObject}, and `object` again as one that carries those bytes, for an object about to be
 * encoded more than once.
 */
export function encodeKept(
  object: KvObject,
  bytesMax: number,
): { readonly object: KvObject; readonly bytes: Uint8Array } {
  const bytes = encodeObject(object, bytesMax)
  return { object: new EncodedObject(object.entries, bytes), bytes }
}

/**
 * The object encoded in `bytes`. Throws `DecodeError` for anything but a valid format-1 object. Does
 * not bound the size: storage and the wire protocols limit the bytes before they get here. With
 * `options.views`, the values are views into `bytes` (see `decodeCbor`). The object carries `bytes`
 * as its encoding, so the caller must not change them afterwards.
 */
export function decodeObject(bytes: Uint8Array, options?: DecodeCborOptions): KvObject {
  const [version, rawEntries] = readTuple(
    decodeCbor(bytes, Number.POSITIVE_INFINITY, 'object', options),
    2,
    'object',
  )
  if (version !== OBJECT_FORMAT_VERSION) {
    throw new DecodeError(`unknown object format ${String(version)}`)
  }
  const entries = readList(rawEntries, 'object entries').map((entry) => {
    const [rawActor, rawCounter, rawValues] = readTuple(entry, 3, 'object entry')
    const actor = readText(rawActor, 'entry actor')
    const counter = readCount(rawCounter, 'entry counter')
    if (counter < 1) throw new DecodeError('entry counter must be a positive integer')
    const values = readList(rawValues, 'entry values')
    if (values.length > counter) {
      throw new DecodeError('entry values must be an array of at most counter values')
    }
    for (const value of values) {
      if (value !== null && !(value instanceof Uint8Array)) {
        throw new DecodeError('entry values must be byte strings or null')
      }
    }
    return { actor, counter, values: values as KvValue[] }
  })
  requireAscending(
    entries.map((e) => e.actor),
    'entry actors',
  )
  return new EncodedObject(entries, bytes)
}
