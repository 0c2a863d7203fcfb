/**
 * The browser stand-in for `node:assert/strict` must fail where the original fails, or the compliance
 * cases run in Chromium could pass vacuously. Checked here against the original.
 */
import original from 'node:assert/strict'
import { describe, expect, it } from 'vitest'
import { ClosedError, TooLargeError } from '../../src/core/errors.ts'
import shim from './fixtures/assert-shim.ts'

const u = (...bytes: number[]) => Uint8Array.from(bytes)

/** Pairs the shim and the original must both accept (true) or both refuse (false). */
const deepCases: Array<[unknown, unknown, boolean]> = [
  [u(1, 2), u(1, 2), true],
  [u(1, 2), u(1, 3), false],
  [u(1, 2), u(1, 2, 0), false],
  [u(1), [1], false],
  [[u(1), u(2)], [u(1), u(2)], true],
  [[[u(1), u(2)]], [[u(1), u(3)]], false],
  [{ items: 2, bytes: 5 }, { items: 2, bytes: 5 }, true],
  [{ items: 2, bytes: 5 }, { items: 2, bytes: 6 }, false],
  [{ items: 2 }, { items: 2, bytes: undefined }, false],
  [[], [undefined], false],
  [1, '1', false],
  [undefined, null, false],
  [Number.NaN, Number.NaN, true],
]

describe('assert shim', () => {
  it.each(deepCases)('deepEqual(%o, %o) passes: %s', (a, b, passes) => {
    const outcome = (assert: typeof original) => {
      try {
        assert.deepEqual(a, b)
        return true
      } catch {
        return false
      }
    }
    expect(outcome(original)).toBe(passes)
    expect(outcome(shim as unknown as typeof original)).toBe(passes)
  })

  it('equal and notEqual are strict', () => {
    expect(() => shim.equal(1, '1')).toThrow(shim.AssertionError)
    expect(() => shim.equal(u(1), u(1))).toThrow(shim.AssertionError)
    shim.equal(undefined, undefined)
    expect(() => shim.notEqual(3, 3)).toThrow(shim.AssertionError)
    expect(() => shim.ok(0, 'zero')).toThrow('zero')
    expect(() => shim.fail('boom')).toThrow('boom')
  })

  it('rejects checks that the promise rejects, and with what', async () => {
    await shim.rejects(Promise.reject(new TooLargeError('key', 2, 1)), TooLargeError)
    await expect(shim.rejects(Promise.resolve(1), TooLargeError)).rejects.toThrow('resolved')
    await expect(
      shim.rejects(Promise.reject(new ClosedError('x')), TooLargeError, 'which error'),
    ).rejects.toThrow('which error')
  })
})
