/**
 * Size limits shared by every backend: resolving a partial configuration and checking keys, values
 * and batches against it before anything is written, so an oversized write changes nothing.
 */
import { InvalidArgumentError, TooLargeError } from '../core/errors.ts'
import { type BatchOp, defaultStorageLimits, type StorageLimits } from './backend.ts'

/** `limits` over {@link defaultStorageLimits}; rejects negative or fractional limits. */
export function resolveStorageLimits(limits: Partial<StorageLimits> = {}): StorageLimits {
  const resolved = { ...defaultStorageLimits, ...limits }
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidArgumentError(
        `storage limit ${name} must be a non-negative integer, not ${value}`,
      )
    }
  }
  return Object.freeze(resolved)
}

/** Throws {@link TooLargeError} when `key` is over the key limit. */
export function checkKey(key: Uint8Array, limits: StorageLimits): void {
  if (key.length > limits.keyBytesMax)
    throw new TooLargeError('key', key.length, limits.keyBytesMax)
}

/** Throws {@link TooLargeError} when `key` or `value` is over its limit. */
export function checkEntry(key: Uint8Array, value: Uint8Array, limits: StorageLimits): void {
  checkKey(key, limits)
  if (value.length > limits.valueBytesMax) {
    throw new TooLargeError('value', value.length, limits.valueBytesMax)
  }
}

/** Checks every operation of a batch, so a batch with one oversized operation is refused whole. */
export function checkBatch(ops: readonly BatchOp[], limits: StorageLimits): void {
  for (const op of ops) {
    if (op.type === 'put') checkEntry(op.key, op.value, limits)
    else checkKey(op.key, limits)
  }
}

/** Throws {@link InvalidArgumentError} unless `partition` is a non-negative safe integer. */
export function checkPartition(partition: number): void {
  if (!Number.isSafeInteger(partition) || partition < 0) {
    throw new InvalidArgumentError(`partition must be a non-negative integer, not ${partition}`)
  }
}
