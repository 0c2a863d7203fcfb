/**
 * Production implementations of the core ports, over the runtime's clock, timers and CSPRNG.
 * Works unchanged in Node, Deno and browsers. Only `createNode` and entry points import this.
 */
import type { Cancel, Clock, Random, Scheduler } from '../core/index.ts'
import { SeededRandom } from '../core/index.ts'

/** Monotonic wall time from `performance.now()`. */
export const systemClock: Clock = { now: () => performance.now() }

/** Timers from `setTimeout`; timers are unref'd in Node so a pending timer never keeps a process alive. */
export const timerScheduler: Scheduler = {
  schedule(delayMs: number, fn: () => void): Cancel {
    const handle = setTimeout(fn, Math.max(0, delayMs))
    const unref = (handle as { unref?: () => void }).unref
    if (typeof unref === 'function') unref.call(handle)
    return () => clearTimeout(handle)
  },
}

/** A {@link SeededRandom} whose seed comes from `crypto.getRandomValues`. */
export function cryptoSeededRandom(): Random {
  const seed = new Uint32Array(1)
  crypto.getRandomValues(seed)
  return new SeededRandom(seed[0]!)
}
