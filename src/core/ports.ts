/**
 * Ports: the only ways the protocol core sees time, timers and randomness. Production wires them to
 * `performance.now`, `setTimeout` and `crypto.getRandomValues` (see `src/runtime`); the simulator wires
 * them to a virtual clock, an event queue and a seeded generator, so a whole cluster replays from one seed.
 */

/** A monotonic clock in milliseconds. */
export interface Clock {
  now(): number
}

/** Cancels a scheduled callback; calling it after the callback ran, or twice, does nothing. */
export type Cancel = () => void

/** Runs callbacks after a delay measured on the matching {@link Clock}. */
export interface Scheduler {
  schedule(delayMs: number, fn: () => void): Cancel
}

/** A source of uniformly distributed 32-bit integers. */
export interface Random {
  /** The next value in [0, 2^32). */
  nextU32(): number
  /**
   * An independent stream named by `label`. Forking does not advance this stream, and the same label
   * always gives the same child, so adding a node to a simulation does not shift the others' streams.
   */
  fork(label: string): Random
}
