/**
 * A libp2p connection gater over a mutable set of refused peers. Refusing a peer stops every new
 * connection to or from it (dials and inbound handshakes alike); with `hangUp` it also cuts the open
 * ones. Tests use it to partition a mesh (the only way to cut a link that the remote cannot undo by
 * redialling), and a node can use it to shut out a removed member.
 */
import type { ConnectionGater, PeerId as Libp2pPeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Options of a {@link PeerGate}. */
export interface PeerGateInit {
  /**
   * Allow dialling loopback, private and `ws://` addresses. libp2p's default gater refuses them in
   * browsers; Node and Deno allow them anyway. Default: `true` (a local mesh needs it; production
   * browser peers dial `wss://` and may pass `false`).
   */
  allowPrivateAddresses?: boolean
}

/** Refuses connections with the peers in its deny set; everything else is allowed. */
export class PeerGate {
  private readonly denied = new Set<string>()
  private readonly allowPrivate: boolean

  constructor(init: PeerGateInit = {}) {
    this.allowPrivate = init.allowPrivateAddresses ?? true
  }

  /** Refuses new connections with `peer` (its peer id string) until {@link allow}. */
  deny(peer: string): void {
    this.denied.add(peer)
  }

  /** Allows connections with `peer` again. */
  allow(peer: string): void {
    this.denied.delete(peer)
  }

  /** Whether `peer` is refused. */
  isDenied(peer: string): boolean {
    return this.denied.has(peer)
  }

  /** The gater to pass as libp2p's `connectionGater`. */
  gater(): ConnectionGater {
    const deny = (peer: Libp2pPeerId): boolean => this.denied.has(peer.toString())
    const gater: ConnectionGater = {
      denyDialPeer: deny,
      denyInboundEncryptedConnection: deny,
      denyOutboundEncryptedConnection: deny,
    }
    if (this.allowPrivate) gater.denyDialMultiaddr = (_addr: Multiaddr) => false
    return gater
  }
}
