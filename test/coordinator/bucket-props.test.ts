import { describe, expect, it } from 'vitest'
import { DEFAULT_BUCKET_PROPS, resolveBucketProps } from '../../src/coordinator/index.ts'
import { InvalidArgumentError } from '../../src/core/index.ts'

describe('resolveBucketProps', () => {
  const buckets = new Map([['single', { n: 1, r: 1, w: 1 }]])

  it('takes the defaults, then the bucket entry, then the request overrides', () => {
    expect(resolveBucketProps(DEFAULT_BUCKET_PROPS, buckets, 'other', {})).toEqual(
      DEFAULT_BUCKET_PROPS,
    )
    expect(resolveBucketProps(DEFAULT_BUCKET_PROPS, buckets, 'single', {})).toEqual({
      ...DEFAULT_BUCKET_PROPS,
      n: 1,
      r: 1,
      w: 1,
    })
    const bytes = new TextEncoder().encode('single')
    expect(resolveBucketProps(DEFAULT_BUCKET_PROPS, buckets, bytes, { n: 3, pw: 1 })).toEqual({
      ...DEFAULT_BUCKET_PROPS,
      r: 1,
      w: 1,
      pw: 1,
    })
  })

  it('ignores overrides that are undefined, and fields that are not quorum settings', () => {
    const overrides = { r: undefined, w: 3, timeoutMs: 5 } as Record<string, unknown>
    const props = resolveBucketProps(DEFAULT_BUCKET_PROPS, buckets, 'other', overrides)
    expect(props).toEqual({ ...DEFAULT_BUCKET_PROPS, w: 3 })
  })

  it('never changes the defaults or the bucket entries', () => {
    resolveBucketProps(DEFAULT_BUCKET_PROPS, buckets, 'single', { r: 1, dw: 1 })
    expect(buckets.get('single')).toEqual({ n: 1, r: 1, w: 1 })
    expect(DEFAULT_BUCKET_PROPS).toEqual({ n: 3, r: 2, w: 2, pr: 0, pw: 0, dw: 0 })
  })

  it('rejects settings outside their ranges', () => {
    const resolve = (overrides: Record<string, number>) => () =>
      resolveBucketProps(DEFAULT_BUCKET_PROPS, buckets, 'other', overrides)
    expect(resolve({ n: 0 })).toThrow(InvalidArgumentError)
    expect(resolve({ r: 4 })).toThrow(/r must be an integer in \[1, n = 3\], got 4/)
    expect(resolve({ pr: -1 })).toThrow(/pr must be/)
    expect(resolve({ n: 1 })).toThrow(/r must be/)
    expect(resolve({ dw: 1.5 })).toThrow(/dw must be/)
  })
})
