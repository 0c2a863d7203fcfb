/**
 * The simulation kernel: virtual time and an event queue behind the Clock and Scheduler ports. Nothing
 * happens until the test drives it; callbacks run in (time, scheduling order), so a simulation driven
 * from one seed replays exactly. Modelled on FoundationDB's and TigerBeetle's deterministic simulators.
 */
import type { Cancel, Clock, Scheduler } from '../core/index.ts'
import { InvalidArgumentError, InvariantError } from '../core/index.ts'
import { EventQueue } from './event-queue.ts'

/** Options of a {@link SimScheduler}. */
export interface SimSchedulerInit {
  /** Virtual time at the start, in ms. Default 0. */
  startTimeMs?: number
  /**
   * Microtask turns the async run methods yield after each event, so promise continuations of that
   * event (an `await transport.request(...)` resuming) run at that event's virtual time. A chain deeper
   * than this resumes after the next event instead: still deterministic, only later. Default 64.
   */
  microtaskTurns?: number
  /** Events one run call may execute before it throws `InvariantError` (a livelock). Default 10,000,000. */
  stepLimit?: number
}

/**
 * Virtual clock and scheduler of one simulation. All state is per instance. A callback that throws
 * propagates out of {@link step} or the run method that ran it: in a simulation that fails the seed.
 */
export class SimScheduler implements Scheduler, Clock {
  private readonly queue = new EventQueue()
  private timeMs: number
  private seq = 0
  private readonly microtaskTurns: number
  private readonly stepLimit: number

  constructor(init: SimSchedulerInit = {}) {
    this.timeMs = init.startTimeMs ?? 0
    this.microtaskTurns = init.microtaskTurns ?? 64
    this.stepLimit = init.stepLimit ?? 10_000_000
    if (!Number.isFinite(this.timeMs)) {
      throw new InvalidArgumentError(`startTimeMs must be finite, got ${this.timeMs}`)
    }
  }

  /** The current virtual time, in ms. */
  now(): number {
    return this.timeMs
  }

  /**
   * Runs `fn` `delayMs` from now (negative delays count as 0, as with `setTimeout`). Throws
   * `InvalidArgumentError` for a delay that is NaN or infinite.
   */
  schedule(delayMs: number, fn: () => void): Cancel {
    if (!Number.isFinite(delayMs)) {
      throw new InvalidArgumentError(`delayMs must be finite, got ${delayMs}`)
    }
    const event = {
      timeMs: this.timeMs + Math.max(0, delayMs),
      seq: this.seq++,
      fn,
      cancelled: false,
    }
    this.queue.push(event)
    return () => {
      event.cancelled = true
    }
  }

  /** Whether no live event is scheduled. */
  isIdle(): boolean {
    return this.queue.peek() === undefined
  }

  /** Virtual time of the next live event, or undefined when idle. */
  nextEventTimeMs(): number | undefined {
    return this.queue.peek()?.timeMs
  }

  /**
   * Runs the next event, advancing the clock to its time, and returns true; returns false when idle.
   * Synchronous: promise continuations of the event run only when the caller yields. Prefer the async
   * run methods for code that awaits.
   */
  step(): boolean {
    const event = this.queue.pop()
    if (event === undefined) return false
    this.timeMs = event.timeMs
    event.fn()
    return true
  }

  /**
   * Runs every event due at or before `untilMs`, then sets the clock to `untilMs`. Resolves with the
   * number of events run. Throws `InvalidArgumentError` if `untilMs` is in the past.
   */
  async runUntil(untilMs: number): Promise<number> {
    if (!(untilMs >= this.timeMs)) {
      throw new InvalidArgumentError(`cannot run until ${untilMs}: the clock is at ${this.timeMs}`)
    }
    const count = await this.runWhile(() => this.hasEventBy(untilMs))
    if (Number.isFinite(untilMs)) this.timeMs = untilMs
    return count
  }

  /** Runs for `durationMs` of virtual time from now; see {@link runUntil}. */
  runFor(durationMs: number): Promise<number> {
    return this.runUntil(this.timeMs + durationMs)
  }

  /**
   * Runs events until none is left or the next one is due after `untilMs` (default: no limit). Resolves
   * with true when the queue became idle, false when it stopped at `untilMs` with events still due later.
   */
  async runUntilIdle(untilMs = Infinity): Promise<boolean> {
    await this.runWhile(() => this.hasEventBy(untilMs))
    return this.isIdle()
  }

  /**
   * Runs events until `promise` settles, then resolves or rejects as it did. Throws `InvariantError` if
   * the queue goes idle first or the next event is due after `untilMs` (default: no limit): the awaited
   * work can no longer finish, which in a simulation is a liveness bug.
   */
  async settle<T>(promise: Promise<T>, untilMs = Infinity): Promise<T> {
    let settled = false
    promise.then(
      () => {
        settled = true
      },
      () => {
        settled = true
      },
    )
    await this.runWhile(() => !settled && this.hasEventBy(untilMs))
    if (!settled) {
      throw new InvariantError(
        `promise still pending at ${this.timeMs} ms with ${this.isIdle() ? 'no events left' : `the next event at ${this.nextEventTimeMs()} ms`}`,
      )
    }
    return promise
  }

  /** Whether a live event is due at or before `untilMs`. */
  private hasEventBy(untilMs: number): boolean {
    const next = this.nextEventTimeMs()
    return next !== undefined && next <= untilMs
  }

  private async runWhile(condition: () => boolean): Promise<number> {
    await this.drainMicrotasks()
    let count = 0
    while (condition()) {
      if (count >= this.stepLimit) {
        throw new InvariantError(
          `step limit of ${this.stepLimit} events reached at ${this.timeMs} ms`,
        )
      }
      this.step()
      count++
      await this.drainMicrotasks()
    }
    return count
  }

  private async drainMicrotasks(): Promise<void> {
    for (let i = 0; i < this.microtaskTurns; i++) await undefined
  }
}
