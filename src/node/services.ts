/**
 * The protocol services of one node, wired on its transport and storage as riak_core's application
 * supervisor starts them:
 *
 *   transport ─┬─ serveVnodes ─── VnodeManager(KvVnode, storage, TransportForwarder)
 *              ├─ KvCoordinator    ring = currentOwners(state), isUp = not marked down (and reachable)
 *              ├─ serveHandoff + HandoffScheduler, whose completed ownership transfers go into the state
 *              └─ MembershipService (on `membershipTransport`, the same transport unless given)
 *
 * The vnode and handoff protocols are served to members only (guests included, tombstones excluded).
 * `assembleNode` puts the runtime around these (forwarding, bootstrap, dialling, persistence, the
 * public API); the simulator's `SimNode` runs them on a simulated network, so the simulator checks the
 * wiring that real nodes run. Nothing here starts anything: the caller starts the manager and the
 * membership service, and re-plans transfers through {@link NodeServices.planTransfers}.
 */
import {
  type BucketProps,
  KvCoordinator,
  kvVnodeProtocol,
  serveVnodes,
  TransportForwarder,
  VnodeClient,
} from '../coordinator/index.ts'
import type { Clock, Random, Scheduler } from '../core/index.ts'
import {
  HandoffScheduler,
  type HandoffSchedulerInit,
  plannedTransfers,
  serveHandoff,
} from '../handoff/index.ts'
import { KvVnode, type KvVnodeManager } from '../kv/index.ts'
import {
  type ClusterState,
  completeTransfer,
  currentOwners,
  getMember,
  isDown,
  MembershipService,
  type MembershipServiceInit,
} from '../membership/index.ts'
import { createRing, type MemberId, type Ring } from '../ring/index.ts'
import type { NodeStorage } from '../storage/index.ts'
import type { PeerId, Transport } from '../transport/index.ts'
import { VnodeManager } from '../vnode/index.ts'

/** A debug logger; `@libp2p/logger`'s `forComponent('solar-orbit:node')` fits. */
export interface NodeLogger {
  (formatter: string, ...args: unknown[]): void
  error(formatter: string, ...args: unknown[]): void
}

/** What the services run on. */
export interface NodeServicesComponents {
  /** Carries vnode requests, handoff and coordinated requests. */
  readonly transport: Transport
  /** Carries membership heartbeats and exchanges. Default: {@link transport}. */
  readonly membershipTransport?: Transport
  readonly storage: NodeStorage
  readonly clock: Clock
  readonly scheduler: Scheduler
  /** Must not replay across restarts; forked per service. */
  readonly random: Random
  /** Debug logger. Default: none. */
  readonly log?: NodeLogger
}

/** How the services are set up. */
export interface NodeServicesInit {
  /** Cluster name: part of every protocol id and topic. */
  readonly cluster: string
  /** The membership service's options, this node's member and start state included. */
  readonly membership: Omit<MembershipServiceInit, 'cluster'>
  /** Handoff tuning. Default: the scheduler's. */
  readonly handoff?: Omit<HandoffSchedulerInit, 'cluster' | 'onComplete' | 'log'>
  /** Quorum settings of every bucket. Default: the coordinator's (n 3, r 2, w 2). */
  readonly bucketDefaults?: Partial<BucketProps>
  /** Timeout of a coordinated request, and of a request forwarded by a vnode, in ms. */
  readonly requestTimeoutMs: number
  /** Whether requests may go to `member` now, beyond it not being marked down. Default: always. */
  readonly reaches?: (member: MemberId) => boolean
}

/** The wired services; see the module comment. */
export interface NodeServices {
  /** This node's KV vnodes. */
  readonly manager: KvVnodeManager
  /** This node's view of the cluster state, kept by gossip. */
  readonly membership: MembershipService
  /** Coordinates KV requests from this node. */
  readonly coordinator: KvCoordinator
  /** Runs this node's ownership and hinted handoffs. */
  readonly handoff: HandoffScheduler
  /** Whether `peer` may use this node's vnodes and hand it data. */
  isMember(peer: PeerId): boolean
  /** The ring requests route over (current holders), or undefined before the first commit. */
  ring(): Ring | undefined
  /** Hands the scheduler the transfers due now, given the partitions holding data on this node. */
  planTransfers(partitionsWithData: readonly number[]): void
  /** Stops serving the vnode and handoff protocols. */
  unserve(): void
}

/** Wires the services of one node; see the module comment. */
export function wireServices(
  components: NodeServicesComponents,
  init: NodeServicesInit,
): NodeServices {
  const { transport, clock, scheduler, random, log } = components
  const { cluster, requestTimeoutMs } = init
  const self = transport.self
  const membership = new MembershipService(
    {
      transport: components.membershipTransport ?? transport,
      clock,
      scheduler,
      random: random.fork('membership'),
      ...(log !== undefined && { log }),
    },
    { ...init.membership, cluster },
  )
  const isMember = (peer: PeerId): boolean => {
    const member = getMember(membership.state, peer)
    return member !== undefined && member.lifecycle !== 'removed'
  }

  const protocol = kvVnodeProtocol(cluster)
  const client = new VnodeClient({ transport, protocol, random: random.fork('forward-client') })
  const manager: KvVnodeManager = new VnodeManager({
    behaviour: new KvVnode({ memberId: self, random: random.fork('kv') }),
    storage: components.storage,
    forwarder: new TransportForwarder(client, { timeoutMs: requestTimeoutMs }),
  })

  let ringCache: { state: ClusterState; ring: Ring | undefined } | undefined
  const ring = (): Ring | undefined => {
    const current = membership.state
    if (ringCache?.state !== current) {
      const owners = currentOwners(current)
      ringCache = { state: current, ring: owners && createRing(owners) }
    }
    return ringCache.ring
  }
  const isUp = (member: MemberId): boolean => {
    if (member === self) return true
    const known = getMember(membership.state, member)
    if (known === undefined || isDown(known)) return false
    return init.reaches?.(member) ?? true
  }
  const coordinator = new KvCoordinator(
    { transport, clock, scheduler, random: random.fork('coordinator'), vnodes: manager },
    {
      protocol,
      ring,
      isUp,
      ...(init.bucketDefaults !== undefined && { defaults: init.bucketDefaults }),
      timeoutMs: requestTimeoutMs,
      ...(log !== undefined && { log }),
    },
  )

  const handoff = new HandoffScheduler(
    { transport, vnodes: manager, clock, scheduler, random: random.fork('handoff') },
    {
      ...init.handoff,
      cluster,
      ...(log !== undefined && { log }),
      onComplete: (transfer) => {
        if (transfer.type !== 'ownership') return
        membership.update((state) => completeTransfer(state, transfer, self))
      },
    },
  )

  const stopServing = [
    serveVnodes(transport, manager, { protocol, authorize: isMember }),
    serveHandoff(transport, manager, { cluster, authorize: isMember }),
  ]
  return {
    manager,
    membership,
    coordinator,
    handoff,
    isMember,
    ring,
    planTransfers: (partitionsWithData) =>
      handoff.update(plannedTransfers(membership.state, self, partitionsWithData)),
    unserve: () => {
      for (const unserve of stopServing.splice(0)) unserve()
    },
  }
}
