/**
 * Errors of the handoff protocol, each with a stable `code`. A receiver throws them from its handler,
 * so a sender sees them as a `RemoteError` whose `remoteCode` is the code below.
 */
import { SolarOrbitError } from '../core/index.ts'

/** The receiver refused a handoff message: the sending peer is not authorized (not a cluster member), or it spoke for another peer. */
export class HandoffRefusedError extends SolarOrbitError {
  static readonly code = 'ERR_HANDOFF_REFUSED'
  /** The peer whose message was refused. */
  readonly peer: string

  constructor(peer: string, detail: string) {
    super(HandoffRefusedError.code, `handoff from ${peer} refused: ${detail}`)
    this.peer = peer
  }
}

/**
 * The receiver has no session for the transfer a batch or finish names (it restarted, or evicted the
 * session). The sender starts the transfer again, resuming from its cursor.
 */
export class UnknownTransferError extends SolarOrbitError {
  static readonly code = 'ERR_HANDOFF_UNKNOWN_TRANSFER'
  /** The transfer id that is not known. */
  readonly transferId: string

  constructor(peer: string, transferId: string) {
    super(UnknownTransferError.code, `no handoff session ${transferId} from ${peer}`)
    this.transferId = transferId
  }
}

/**
 * The scheduler abandoned a running attempt (the transfer is no longer planned, its target was marked
 * down, or the scheduler stopped); its requests in flight are aborted with this reason.
 */
export class TransferAbandonedError extends SolarOrbitError {
  static readonly code = 'ERR_HANDOFF_ABANDONED'
  constructor(why: string) {
    super(TransferAbandonedError.code, `handoff abandoned: ${why}`)
  }
}
