/**
 * Errors a vnode host rejects requests with, each with a stable `code`. They are values of the
 * framework, not of a service: a service's own errors (a `TooLargeError`, say) pass through unchanged.
 */
import { SolarOrbitError } from '../core/index.ts'

/** The vnode's queue is full; the request was not queued. Retry later or elsewhere. */
export class OverloadError extends SolarOrbitError {
  static readonly code = 'ERR_OVERLOAD'
  /** The partition of the overloaded vnode. */
  readonly partition: number
  /** The queue capacity that was reached. */
  readonly queueCapacity: number

  constructor(partition: number, queueCapacity: number) {
    super(OverloadError.code, `vnode ${partition} is overloaded: ${queueCapacity} requests queued`)
    this.partition = partition
    this.queueCapacity = queueCapacity
  }
}

/** The vnode stopped (or failed to start) before it answered the request. */
export class VnodeStoppedError extends SolarOrbitError {
  static readonly code = 'ERR_VNODE_STOPPED'
  /** The partition of the stopped vnode. */
  readonly partition: number
  /** Why it stopped. */
  readonly reason: string

  constructor(partition: number, reason: string, options?: ErrorOptions) {
    super(VnodeStoppedError.code, `vnode ${partition} stopped: ${reason}`, options)
    this.partition = partition
    this.reason = reason
  }
}

/** A behaviour callback threw something that is not a `SolarOrbitError` (a bug); see `cause`. */
export class VnodeCallbackError extends SolarOrbitError {
  static readonly code = 'ERR_VNODE_CALLBACK'
  /** The partition of the vnode. */
  readonly partition: number
  /** The callback that threw, such as `handleCommand`. */
  readonly callback: string

  constructor(partition: number, callback: string, cause: unknown) {
    super(VnodeCallbackError.code, `vnode ${partition}: ${callback} failed: ${String(cause)}`, {
      cause,
    })
    this.partition = partition
    this.callback = callback
  }
}

/** The vnode is handing off and its behaviour chose to drop the command. */
export class CommandDroppedError extends SolarOrbitError {
  static readonly code = 'ERR_VNODE_DROPPED'
  /** The partition of the vnode. */
  readonly partition: number

  constructor(partition: number) {
    super(CommandDroppedError.code, `vnode ${partition} dropped the command while handing off`)
    this.partition = partition
  }
}

/** The operation is not allowed in the vnode's current status (finishing a handoff that never started, say). */
export class VnodeStatusError extends SolarOrbitError {
  static readonly code = 'ERR_VNODE_STATUS'
  /** The partition of the vnode. */
  readonly partition: number
  /** The status the vnode was in. */
  readonly status: string

  constructor(partition: number, operation: string, status: string) {
    super(VnodeStatusError.code, `vnode ${partition} cannot ${operation} while ${status}`)
    this.partition = partition
    this.status = status
  }
}
