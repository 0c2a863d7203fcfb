/**
 * The receiving side of handoff (riak_core_handoff_receiver): serves the handoff protocol on a
 * transport and applies each batch through the target vnode's `handoffData`, in one vnode turn,
 * acknowledging a batch only once every item of it was applied. The behaviour applies items by merge,
 * so a batch applied twice (a network duplicate, or a resend after a lost ack) leaves the same data as
 * once; the receiver also remembers the seqs it applied per session and acknowledges a repeated seq
 * without applying it again. Every message is authorized first: a peer that is not a member is refused with a
 * {@link HandoffRefusedError}.
 */
import { InvalidArgumentError } from '../core/index.ts'
import type { PeerId, Transport } from '../transport/index.ts'
import type { HandoffItem, VnodeStatus } from '../vnode/index.ts'
import { HandoffRefusedError, UnknownTransferError } from './errors.ts'
import {
  decodeHandoffMessage,
  defaultHandoffLimits,
  encodeHandoffAck,
  type HandoffLimits,
  handoffProtocol,
} from './protocol.ts'

/** What the receiver needs of a vnode: `VnodeHost` fits. */
export interface HandoffSink {
  /** The vnode's status: a vnode that is itself handing off or forwarding takes no hints. */
  readonly status: VnodeStatus
  /** Resolves once the vnode started. */
  started(): Promise<void>
  /** Applies a batch of items (queued like a command; rejects with `OverloadError` when the queue is full). */
  handoffData(items: readonly HandoffItem[]): Promise<void>
}

/** Where the receiver finds the vnode of a partition, starting it if needed: `VnodeManager` fits. */
export interface HandoffSinks {
  vnode(partition: number): HandoffSink
}

/** Options of {@link serveHandoff}. */
export interface HandoffReceiverInit {
  /** The cluster name, part of the protocol id. Required. */
  readonly cluster: string
  /**
   * Whether `peer` may hand data to this node: true for cluster members (and authorized guests).
   * Asked for every message; a refused message fails with {@link HandoffRefusedError}. Required.
   */
  readonly authorize: (peer: PeerId) => boolean
  /** Decoding limits. Default {@link defaultHandoffLimits} (4 MiB messages, 10,000 items a batch). */
  readonly limits?: Partial<HandoffLimits>
  /** Sessions kept at once; starting one more forgets the oldest (its sender restarts it). Default 64. */
  readonly sessionsMax?: number
}

/** One transfer being received. */
interface Session {
  readonly partition: number
  /** Seqs being applied or applied, with the item count the ack reports. */
  readonly batches: Map<number, Promise<number>>
}

/**
 * Serves the handoff protocol of `init.cluster` on `transport`, applying batches to `vnodes`. Returns
 * a function that stops serving it. Throws `InvalidArgumentError` for a bad option, and whatever
 * `transport.handle` throws when the protocol is already served.
 */
export function serveHandoff(
  transport: Transport,
  vnodes: HandoffSinks,
  init: HandoffReceiverInit,
): () => void {
  const limits: HandoffLimits = { ...defaultHandoffLimits, ...init.limits }
  const sessionsMax = positive(init.sessionsMax ?? 64, 'sessionsMax')
  const sessions = new Map<string, Session>()
  const protocol = handoffProtocol(init.cluster)

  const sessionOf = (peer: PeerId, transferId: string): Session => {
    const session = sessions.get(sessionKey(peer, transferId))
    if (!session) throw new UnknownTransferError(peer, transferId)
    return session
  }

  transport.handle(protocol, async (bytes, peer) => {
    if (!init.authorize(peer)) throw new HandoffRefusedError(peer, 'not a member')
    const message = decodeHandoffMessage(bytes, limits)
    const { transferId } = message
    switch (message.kind) {
      case 'start': {
        if (message.from !== peer) {
          throw new HandoffRefusedError(peer, `it claims to be ${message.from}`)
        }
        const vnode = vnodes.vnode(message.partition)
        await vnode.started()
        // This node is handing the partition off (it may not have heard of the commit the sender
        // acted on): taking hints now would let both sides finish, delete, and lose the data.
        if (
          message.type === 'hinted' &&
          (vnode.status === 'handingOff' || vnode.status === 'forwarding')
        ) {
          throw new HandoffRefusedError(
            peer,
            `partition ${message.partition} is being handed off from here`,
          )
        }
        const key = sessionKey(peer, transferId)
        sessions.delete(key)
        if (sessions.size >= sessionsMax) sessions.delete(sessions.keys().next().value!)
        sessions.set(key, { partition: message.partition, batches: new Map() })
        return encodeHandoffAck({ kind: 'start', transferId })
      }
      case 'batch': {
        const session = sessionOf(peer, transferId)
        let applied = session.batches.get(message.seq)
        if (applied === undefined) {
          applied = vnodes
            .vnode(session.partition)
            .handoffData(message.items)
            .then(() => message.items.length)
          session.batches.set(message.seq, applied)
          // A failed batch is forgotten, so its resend is applied.
          applied.catch(() => session.batches.delete(message.seq))
        }
        const items = await applied
        return encodeHandoffAck({ kind: 'batch', transferId, seq: message.seq, items })
      }
      case 'finish':
        sessionOf(peer, transferId)
        sessions.delete(sessionKey(peer, transferId))
        return encodeHandoffAck({ kind: 'finish', transferId })
    }
  })
  return () => transport.unhandle(protocol)
}

function sessionKey(peer: PeerId, transferId: string): string {
  return `${peer}\n${transferId}`
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`)
  }
  return value
}
