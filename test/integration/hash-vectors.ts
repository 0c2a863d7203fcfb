/**
 * Keys whose ring positions must be identical in every runtime, and the function that computes them.
 * Imported by the Deno script and evaluated in Chromium by `hash-runtimes.test.ts`.
 */
import { createRing, hashKey, keyPartition } from '../../src/ring/index.ts'

/** Bucket/key pairs covering ASCII, multi-byte UTF-8, empty parts and raw bytes. */
export const hashInputs: ReadonlyArray<readonly [string, string]> = [
  ['', ''],
  ['users', 'alice'],
  ['users', 'bob'],
  ['ünïcødé', '键值🙂'],
  ['b', 'a'.repeat(1000)],
  ...Array.from({ length: 50 }, (_, i) => [`bucket-${i % 7}`, `key-${i}`] as const),
]

/** Each input's 32-bit position and its partition on a ring of 16384 partitions. */
export function hashVectors(): Array<[number, number]> {
  const ring = createRing(Array.from({ length: 16384 }, (_, p) => `m${p % 5}`))
  return hashInputs.map(([bucket, key]) => [hashKey(bucket, key), keyPartition(ring, bucket, key)])
}
