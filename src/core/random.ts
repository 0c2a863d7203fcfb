import { InvalidArgumentError } from './errors.ts'
import type { Random } from './ports.ts'

/**
 * FNV-1a over the UTF-16 code units of `text`, folded into `seed`. Used only to derive stream seeds
 * from labels, never for keys.
 */
function mixLabel(seed: number, text: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/** SplitMix32 step: spreads one 32-bit seed into well-mixed state words. */
function splitMix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0
  let z = state.s
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
  return (z ^ (z >>> 16)) >>> 0
}

/**
 * A seeded, forkable generator: xoshiro128** (Blackman and Vigna, 2018) seeded through SplitMix32.
 * The same seed and the same fork labels replay the same streams on every runtime.
 */
export class SeededRandom implements Random {
  readonly seed: number
  private readonly path: string
  private a: number
  private b: number
  private c: number
  private d: number

  /** `seed` is any integer in [0, 2^32); `path` names the stream (forks extend it). */
  constructor(seed: number, path = '') {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new InvalidArgumentError(`seed must be an integer in [0, 2^32), got ${seed}`)
    }
    this.seed = seed
    this.path = path
    const state = { s: mixLabel(seed, path) }
    this.a = splitMix32(state)
    this.b = splitMix32(state)
    this.c = splitMix32(state)
    this.d = splitMix32(state)
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0
    const t = (this.b << 9) >>> 0
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    this.a >>>= 0
    this.b >>>= 0
    this.c >>>= 0
    return result
  }

  fork(label: string): Random {
    return new SeededRandom(this.seed, `${this.path}/${label}`)
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/** A float in [0, 1) from `random`. */
export function nextFloat(random: Random): number {
  return random.nextU32() / 0x1_0000_0000
}

/** An integer in [0, bound) from `random`, without modulo bias. `bound` must be in [1, 2^32]. */
export function nextInt(random: Random, bound: number): number {
  if (!Number.isInteger(bound) || bound < 1 || bound > 0x1_0000_0000) {
    throw new InvalidArgumentError(`bound must be an integer in [1, 2^32], got ${bound}`)
  }
  const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound)
  for (;;) {
    const x = random.nextU32()
    if (x < limit) return x % bound
  }
}
