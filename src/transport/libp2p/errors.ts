/**
 * Errors a responder sends back as an error envelope's code. The requester sees them as a
 * `RemoteError` whose `remoteCode` is the code here.
 */
import { SolarOrbitError } from '../../core/index.ts'

/** The responder's `authorize` hook refused the requesting peer on this protocol (not a cluster member, say). */
export class UnauthorizedError extends SolarOrbitError {
  static readonly code = 'ERR_UNAUTHORIZED'
  /** The peer that was refused. */
  readonly peer: string
  /** The protocol it asked for. */
  readonly protocol: string

  constructor(peer: string, protocol: string) {
    super(UnauthorizedError.code, `peer ${peer} may not use ${protocol}`)
    this.peer = peer
    this.protocol = protocol
  }
}
