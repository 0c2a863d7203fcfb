/**
 * Where the KV vnode keeps things in its partition's storage. An object lives under
 * `u16be(byteLength(bucket)) ‖ bucket ‖ key`, so one bucket's keys are contiguous (a listing folds
 * one range) and no two (bucket, key) pairs share a storage key. The vnode's own metadata (its actor
 * epoch) lives under the one-byte key {@link META_KEY}, which sorts before every object key and is
 * shorter than any of them.
 */
import { InvalidArgumentError, TooLargeError } from '../core/index.ts'
import { hashKey, type KeyPart, keyPartBytes, partitionOfPosition } from '../ring/index.ts'
import type { KeyFilter } from '../vnode/index.ts'

/** Storage key of the vnode's metadata. */
export const META_KEY: Uint8Array = Uint8Array.of(0)

/** Largest bucket, in bytes (its length is stored in two bytes). */
export const BUCKET_BYTES_MAX = 0xffff

/** The storage key of `key` in `bucket`. Throws `InvalidArgumentError` for an empty key, `TooLargeError` for a bucket over 64 KiB. */
export function objectKey(bucket: KeyPart, key: KeyPart): Uint8Array {
  const b = keyPartBytes(bucket)
  const k = keyPartBytes(key)
  if (k.length === 0) throw new InvalidArgumentError('key must not be empty')
  const out = bucketPrefix(b, k.length)
  out.set(k, 2 + b.length)
  return out
}

/** The bytes every storage key of `bucket` starts with (followed by `extra` zero bytes of room). */
export function bucketPrefix(bucket: Uint8Array, extra = 0): Uint8Array {
  if (bucket.length > BUCKET_BYTES_MAX) {
    throw new TooLargeError('bucket', bucket.length, BUCKET_BYTES_MAX)
  }
  const out = new Uint8Array(2 + bucket.length + extra)
  out[0] = bucket.length >>> 8
  out[1] = bucket.length & 0xff
  out.set(bucket, 2)
  return out
}

/** True when `storageKey` is an object's: a bucket length, that many bytes, and a non-empty key. */
export function isObjectKey(storageKey: Uint8Array): boolean {
  if (storageKey.length < 3) return false
  return storageKey.length > 2 + ((storageKey[0]! << 8) | storageKey[1]!)
}

/** True when `storageKey` starts with `prefix`. */
export function hasPrefix(storageKey: Uint8Array, prefix: Uint8Array): boolean {
  if (storageKey.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (storageKey[i] !== prefix[i]) return false
  return true
}

/** True when `filter` is absent or `key` of `bucket` hashes into one of its partitions. */
export function inFilter(
  bucket: Uint8Array,
  key: Uint8Array,
  filter: KeyFilter | undefined,
): boolean {
  if (filter === undefined) return true
  const partition = partitionOfPosition(hashKey(bucket, key), filter.partitionCount)
  return filter.partitions.includes(partition)
}
