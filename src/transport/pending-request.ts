/**
 * The bookkeeping of one outstanding request that every transport needs: settle exactly once, by a
 * response, a failure, the deadline (through the Scheduler port, so simulated time drives it) or the
 * caller's AbortSignal, and release the timer and the abort listener whichever comes first.
 */
import type { Cancel, Scheduler } from '../core/index.ts'
import { InvalidArgumentError } from '../core/index.ts'
import { TimeoutError } from './errors.ts'

/** Options of a {@link PendingRequest}. */
export interface PendingRequestInit {
  /** Arms the deadline. */
  scheduler: Scheduler
  /** The peer asked, for the `TimeoutError`. */
  peer: string
  /** The protocol asked, for the `TimeoutError`. */
  protocol: string
  /** Reject with `TimeoutError` after this many ms; a positive finite number. */
  timeoutMs: number
  /** Reject with its `reason` when it aborts. Optional. */
  signal?: AbortSignal | undefined
  /** Called once when the request settles, however it settles (to drop it from a table of pending requests). */
  onSettled?: () => void
}

/**
 * A promise with its deadline and cancellation. Construct it, send the request, then call
 * {@link resolve} or {@link reject} when the outcome arrives; later outcomes are ignored, so a duplicated
 * or late response is harmless. If the signal is already aborted, the promise rejects at once.
 */
export class PendingRequest<T> {
  /** Settles with the outcome. */
  readonly promise: Promise<T>
  private settledFlag = false
  private resolveFn!: (value: T) => void
  private rejectFn!: (error: unknown) => void
  private readonly cancelTimer: Cancel
  private readonly signal: AbortSignal | undefined
  private readonly onAbort: () => void
  private readonly onSettled: (() => void) | undefined

  constructor(init: PendingRequestInit) {
    if (!(init.timeoutMs > 0) || !Number.isFinite(init.timeoutMs)) {
      throw new InvalidArgumentError(`timeoutMs must be positive and finite, got ${init.timeoutMs}`)
    }
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve
      this.rejectFn = reject
    })
    this.signal = init.signal
    this.onSettled = init.onSettled
    this.onAbort = () => this.reject(init.signal?.reason)
    this.cancelTimer = init.scheduler.schedule(init.timeoutMs, () =>
      this.reject(new TimeoutError(init.peer, init.protocol, init.timeoutMs)),
    )
    if (this.signal?.aborted) this.onAbort()
    else this.signal?.addEventListener('abort', this.onAbort, { once: true })
  }

  /** Whether the request has settled. */
  get settled(): boolean {
    return this.settledFlag
  }

  /** Resolves with `value` unless already settled. */
  resolve(value: T): void {
    if (this.finish()) this.resolveFn(value)
  }

  /** Rejects with `error` unless already settled. */
  reject(error: unknown): void {
    if (this.finish()) this.rejectFn(error)
  }

  private finish(): boolean {
    if (this.settledFlag) return false
    this.settledFlag = true
    this.cancelTimer()
    this.signal?.removeEventListener('abort', this.onAbort)
    this.onSettled?.()
    return true
  }
}
