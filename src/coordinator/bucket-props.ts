/**
 * Replication and quorum settings per bucket (riak's bucket properties n_val, r, w, pr, pw, dw), their
 * defaults, and the per-request overrides, validated before anything is sent.
 */
import { InvalidArgumentError } from '../core/index.ts'
import type { KeyPart } from '../ring/index.ts'

/** The quorum settings of a bucket. */
export interface BucketProps {
  /** Replicas of each key (riak's n_val). Default 3. */
  readonly n: number
  /** Answers a get waits for, in [1, n]. Default 2. */
  readonly r: number
  /** Acknowledgements a write waits for, in [1, n]. Default 2. */
  readonly w: number
  /** Answers a get needs from primaries (not fallbacks), in [0, n]. Default 0. */
  readonly pr: number
  /** Acknowledgements a write needs from primaries, in [0, n]. Default 0. */
  readonly pw: number
  /**
   * Acknowledgements a write needs from replicas that stored it durably, in [0, n]. Default 0. When
   * above 0, every replica writes durably and the write waits for max(w, dw) of them.
   */
  readonly dw: number
}

/** Defaults of {@link BucketProps}: n 3, r 2, w 2, pr 0, pw 0, dw 0 (riak's defaults, with quorum as 2 of 3). */
export const DEFAULT_BUCKET_PROPS: BucketProps = Object.freeze({
  n: 3,
  r: 2,
  w: 2,
  pr: 0,
  pw: 0,
  dw: 0,
})

/** Settings of named buckets; a byte-string bucket is looked up by its UTF-8 decoding. */
export type BucketPropsMap = ReadonlyMap<string, Partial<BucketProps>>

const decoder = new TextDecoder()

/**
 * The settings of one request on `bucket`: `defaults`, then the bucket's entry in `buckets`, then the
 * request's `overrides` (only their quorum fields that are set, so `{ r: undefined }` does not erase a
 * default). Throws `InvalidArgumentError` unless n is a positive integer, r and w are integers in
 * [1, n], and pr, pw and dw are integers in [0, n].
 */
export function resolveBucketProps(
  defaults: BucketProps,
  buckets: BucketPropsMap,
  bucket: KeyPart,
  overrides: Partial<BucketProps>,
): BucketProps {
  const name = typeof bucket === 'string' ? bucket : decoder.decode(bucket)
  const props: { -readonly [K in keyof BucketProps]: BucketProps[K] } = {
    ...defaults,
    ...buckets.get(name),
  }
  for (const field of FIELDS) {
    const value = overrides[field]
    if (value !== undefined) props[field] = value
  }
  if (!Number.isSafeInteger(props.n) || props.n < 1) {
    throw new InvalidArgumentError(`n must be a positive integer, got ${props.n}`)
  }
  for (const [field, min] of QUORUM_MINIMA) {
    const value = props[field]
    if (!Number.isSafeInteger(value) || value < min || value > props.n) {
      throw new InvalidArgumentError(
        `${field} must be an integer in [${min}, n = ${props.n}], got ${value}`,
      )
    }
  }
  return props
}

/** The fields of {@link BucketProps}. */
const FIELDS = Object.keys(DEFAULT_BUCKET_PROPS) as (keyof BucketProps)[]

/** The quorum fields and the least value each may take (the most is n). */
const QUORUM_MINIMA = [
  ['r', 1],
  ['w', 1],
  ['pr', 0],
  ['pw', 0],
  ['dw', 0],
] as const
