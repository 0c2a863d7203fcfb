/**
 * The stored form of one key: a dotted version vector set whose siblings are values or tombstones
 * (riak_kv's `riak_object`, with a DVV set as its clock). Encoded with CBOR through `cborg`
 * (deterministic, so equal objects give equal bytes) and validated on decode with `DecodeError`.
 *
 * Format 1: `[1, entries]`, entries sorted by actor, each `[actor, counter, values]` where `values`
 * (newest first, at most `counter` of them) are byte strings, or `null` for a tombstone.
 */
import { decode, encode } from 'cborg'
import { type DvvSet, join, type VersionVector, values } from '../clock/index.ts'
import { DecodeError, TooLargeError } from '../core/index.ts'

/** One sibling: the bytes of a value, or `null` for a tombstone (a delete, kept to order it causally). */
export type KvValue = Uint8Array | null

/** What the KV vnode stores per key: a DVV set of values and tombstones. */
export type KvObject = DvvSet<KvValue>

/** The format version {@link encodeObject} writes. */
export const OBJECT_FORMAT_VERSION = 1

/** Strict decoding: no indefinite lengths, undefined, non-finite numbers, bigints or duplicate keys. */
const STRICT_CBOR = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
} as const

/** The live values of `object` (siblings when more than one; none when deleted or absent). */
export function liveValues(object: KvObject | undefined): Uint8Array[] {
  if (object === undefined) return []
  return values(object).filter((value): value is Uint8Array => value !== null)
}

/** The causal context of `object` for the next write (empty for an absent key). */
export function contextOf(object: KvObject | undefined): VersionVector {
  return object === undefined ? [] : join(object)
}

/** `object` as bytes. Throws `TooLargeError` when they would exceed `bytesMax`. */
export function encodeObject(object: KvObject, bytesMax: number): Uint8Array {
  const bytes = encode([
    OBJECT_FORMAT_VERSION,
    object.entries.map((entry) => [entry.actor, entry.counter, entry.values]),
  ])
  if (bytes.length > bytesMax) throw new TooLargeError('object', bytes.length, bytesMax)
  return bytes
}

/** The object encoded in `bytes`. Throws `DecodeError` for anything but a valid format-1 object. */
export function decodeObject(bytes: Uint8Array): KvObject {
  const raw = decodeCbor(bytes, 'object')
  if (!Array.isArray(raw) || raw.length !== 2)
    throw new DecodeError('object must be a 2-element array')
  if (raw[0] !== OBJECT_FORMAT_VERSION)
    throw new DecodeError(`unknown object format ${String(raw[0])}`)
  if (!Array.isArray(raw[1])) throw new DecodeError('object entries must be an array')
  let previous: string | undefined
  const entries = raw[1].map((entry: unknown) => {
    if (!Array.isArray(entry) || entry.length !== 3) {
      throw new DecodeError('object entry must be a 3-element array')
    }
    const [actor, counter, vals] = entry as [unknown, unknown, unknown]
    if (typeof actor !== 'string' || actor.length === 0) {
      throw new DecodeError('entry actor must be a non-empty string')
    }
    if (previous !== undefined && !(previous < actor)) {
      throw new DecodeError('entry actors must be unique and sorted')
    }
    previous = actor
    if (!Number.isSafeInteger(counter) || (counter as number) < 1) {
      throw new DecodeError('entry counter must be a positive integer')
    }
    if (!Array.isArray(vals) || vals.length > (counter as number)) {
      throw new DecodeError('entry values must be an array of at most counter values')
    }
    for (const value of vals) {
      if (value !== null && !(value instanceof Uint8Array)) {
        throw new DecodeError('entry values must be byte strings or null')
      }
    }
    return { actor, counter: counter as number, values: vals as KvValue[] }
  })
  return { entries }
}

/** `bytes` decoded as strict CBOR; throws `DecodeError` naming `what` when they are not. */
export function decodeCbor(bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes, STRICT_CBOR)
  } catch (cause) {
    throw new DecodeError(`${what} is not valid CBOR: ${(cause as Error).message}`, { cause })
  }
}
