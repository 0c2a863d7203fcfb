/**
 * A mesh of `Libp2pTransport`s in this process on TCP loopback, every node connected to every other,
 * for the transport's tests. A link is cut by refusing each peer in the other's `PeerGate` (so neither
 * can redial) and hanging up their connection; it is restored by allowing them and dialling again.
 */

import { peerIdFromString } from '@libp2p/peer-id'
import { timerScheduler } from '../../src/runtime/system-ports.ts'
import {
  createLibp2pNode,
  Libp2pTransport,
  type Libp2pTransportInit,
  PeerGate,
} from '../../src/transport/libp2p/index.ts'

/** Gossipsub heartbeat of mesh nodes, in ms: short, so subscriptions settle fast. */
export const MESH_HEARTBEAT_MS = 100

/** A started mesh and its controls. */
export interface LocalMesh {
  readonly transports: Libp2pTransport[]
  /** Cuts the link between transports `a` and `b` both ways. */
  cut(a: number, b: number): Promise<void>
  /** Restores a cut link and reconnects the two. */
  restore(a: number, b: number): Promise<void>
  /** Stops every transport (and its node). */
  teardown(): Promise<void>
}

/** Starts `count` transports (options per index from `init`) and connects each pair. */
export async function startLocalMesh(
  count: number,
  init: (index: number) => Libp2pTransportInit = () => ({}),
): Promise<LocalMesh> {
  const gates = Array.from({ length: count }, () => new PeerGate())
  const transports: Libp2pTransport[] = []
  for (let i = 0; i < count; i++) {
    const node = await createLibp2pNode({ gate: gates[i]!, gossipHeartbeatMs: MESH_HEARTBEAT_MS })
    transports.push(new Libp2pTransport({ node, scheduler: timerScheduler }, init(i)))
  }
  await Promise.all(transports.map((t) => t.start()))
  const link = async (a: number, b: number): Promise<void> => {
    const [ta, tb] = [transports[a]!, transports[b]!]
    const connected = new Promise<void>((resolve) => {
      if (tb.peers().includes(ta.self)) resolve()
      tb.addEventListener('peer:connect', function seen(event) {
        if (event.detail !== ta.self) return
        tb.removeEventListener('peer:connect', seen)
        resolve()
      })
    })
    await ta.connect(tb.multiaddrs()[0]!)
    await connected
  }
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) await link(a, b)
  }
  return {
    transports,
    async cut(a, b) {
      const [ta, tb] = [transports[a]!, transports[b]!]
      gates[a]!.deny(tb.self)
      gates[b]!.deny(ta.self)
      await ta.node.hangUp(peerIdFromString(tb.self))
    },
    async restore(a, b) {
      gates[a]!.allow(transports[b]!.self)
      gates[b]!.allow(transports[a]!.self)
      await link(a, b)
    },
    async teardown() {
      await Promise.all(transports.map((t) => t.stop()))
    },
  }
}
