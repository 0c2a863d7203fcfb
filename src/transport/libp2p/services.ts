/**
 * The libp2p services every Solar Orbit node carries, in Node, Deno and browsers alike: identify
 * (gossipsub learns its peers' protocols through it) and gossipsub, the cluster's broadcast channel.
 */
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { type Identify, identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'

/** The services every Solar Orbit libp2p node carries. */
export type SolarOrbitServices = {
  /** Answers identify requests; gossipsub relies on it to find peers that speak its protocol. */
  identify: Identify
  /** The broadcast channel (cluster heartbeats and state digests). */
  pubsub: GossipSub
}

/** A libp2p node with {@link SolarOrbitServices}. */
export type SolarOrbitLibp2p = Libp2p<SolarOrbitServices>

/** Gossip tuning shared by the node factories. */
export interface GossipInit {
  /**
   * IP addresses exempt from gossipsub's IP-colocation penalty, which graylists peers beyond ten per
   * address. Default: `['127.0.0.1', '::1']`, so a local mesh of many nodes keeps its gossip.
   */
  colocationWhitelist?: string[]
  /** Gossipsub heartbeat interval in ms (mesh maintenance, gossip emission). Default: `1000`. */
  gossipHeartbeatMs?: number
}

/** The service factories of {@link SolarOrbitServices}, for `createLibp2p`'s `services`. */
export function solarOrbitServices(init: GossipInit) {
  return {
    identify: identify(),
    pubsub: gossipsub({
      allowPublishToZeroTopicPeers: true,
      emitSelf: false,
      heartbeatInterval: init.gossipHeartbeatMs ?? 1000,
      scoreParams: {
        IPColocationFactorWhitelist: new Set(init.colocationWhitelist ?? ['127.0.0.1', '::1']),
      },
    }),
  }
}
