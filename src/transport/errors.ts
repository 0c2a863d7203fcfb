/**
 * Errors a {@link Transport} request rejects with, each with a stable `code`, plus the two helpers that
 * carry a handler's failure across the wire as a code and a message ({@link toRemoteFailure},
 * {@link fromRemoteFailure}). Cancellation is not an error class of ours: an aborted request rejects with
 * its `AbortSignal`'s `reason`, as `fetch` does.
 *
 * @see {@link Transport.request}
 */
import { SolarOrbitError } from '../core/index.ts'

/** No response arrived within the request's `timeoutMs`. The peer may or may not have acted on it. */
export class TimeoutError extends SolarOrbitError {
  static readonly code = 'ERR_TIMEOUT'
  /** The peer that did not answer. */
  readonly peer: string
  /** The protocol of the request. */
  readonly protocol: string
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number

  constructor(peer: string, protocol: string, timeoutMs: number) {
    super(TimeoutError.code, `no response from ${peer} on ${protocol} within ${timeoutMs} ms`)
    this.peer = peer
    this.protocol = protocol
    this.timeoutMs = timeoutMs
  }
}

/**
 * The peer cannot be reached: it is not connected (down, stopped, partitioned away), or its connection
 * closed while the request was in flight. The peer may or may not have acted on an in-flight request.
 */
export class UnreachableError extends SolarOrbitError {
  static readonly code = 'ERR_UNREACHABLE'
  /** The peer that cannot be reached. */
  readonly peer: string

  constructor(peer: string, detail = 'not connected') {
    super(UnreachableError.code, `peer ${peer} is unreachable: ${detail}`)
    this.peer = peer
  }
}

/** The peer has no handler for the request's protocol (nothing registered, or a version it does not speak). */
export class UnsupportedProtocolError extends SolarOrbitError {
  static readonly code = 'ERR_UNSUPPORTED_PROTOCOL'
  /** The peer that refused the protocol. */
  readonly peer: string
  /** The protocol it refused. */
  readonly protocol: string

  constructor(peer: string, protocol: string) {
    super(UnsupportedProtocolError.code, `peer ${peer} does not handle ${protocol}`)
    this.peer = peer
    this.protocol = protocol
  }
}

/**
 * The peer's handler threw. `remoteCode` is the `code` of the error it threw (a {@link SolarOrbitError}
 * code such as `ERR_NOT_OWNER`), or {@link RemoteError.internalCode} when it threw anything else.
 */
export class RemoteError extends SolarOrbitError {
  static readonly code = 'ERR_REMOTE'
  /** The `remoteCode` of a handler failure that was not a {@link SolarOrbitError} (a bug on the peer). */
  static readonly internalCode = 'ERR_INTERNAL'
  /** The peer whose handler failed. */
  readonly peer: string
  /** The stable code of the remote error. */
  readonly remoteCode: string

  constructor(peer: string, remoteCode: string, remoteMessage: string) {
    super(RemoteError.code, `peer ${peer} failed (${remoteCode}): ${remoteMessage}`)
    this.peer = peer
    this.remoteCode = remoteCode
  }
}

/** A handler's failure as it travels on the wire. */
export interface RemoteFailure {
  /** Stable code: the thrown error's `code`, {@link UnsupportedProtocolError.code}, or {@link RemoteError.internalCode}. */
  readonly code: string
  /** Human-readable message; may be empty. */
  readonly message: string
}

/**
 * What a responder sends back when its handler threw `error`. Only a {@link SolarOrbitError}'s code and
 * message leave the node; anything else becomes {@link RemoteError.internalCode} with no detail, so stack
 * traces and internals are not leaked to peers.
 */
export function toRemoteFailure(error: unknown): RemoteFailure {
  if (error instanceof SolarOrbitError) return { code: error.code, message: error.message }
  return { code: RemoteError.internalCode, message: 'internal error' }
}

/**
 * The error a requester rejects with for a failure received from `peer` on `protocol`: an
 * {@link UnsupportedProtocolError} for that code, a {@link RemoteError} for every other code.
 */
export function fromRemoteFailure(
  peer: string,
  protocol: string,
  failure: RemoteFailure,
): SolarOrbitError {
  if (failure.code === UnsupportedProtocolError.code) {
    return new UnsupportedProtocolError(peer, protocol)
  }
  return new RemoteError(peer, failure.code, failure.message)
}
