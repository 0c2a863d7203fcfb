/**
 * One simulated node of a {@link SimCluster}, wired as a real node is: its {@link SimTransport},
 * a `MemoryStorage` on the node's {@link MemoryVolume} (the volume is its disk: it survives crashes,
 * which lose only the writes that were not durable), a `VnodeManager` of `KvVnode`s served by
 * `serveVnodes`, a `KvCoordinator`, a `MembershipService` (gossip, failure detector, auto claim) and a
 * `HandoffScheduler` with its receiver (`serveHandoff`).
 *
 *   SimTransport ─┬─ serveVnodes ──── VnodeManager(KvVnode, MemoryStorage(volume), TransportForwarder)
 *                 ├─ KvCoordinator    (ring = current owners, isUp = not marked down, of the state)
 *                 ├─ MembershipService (cluster state; every change is persisted for the next boot)
 *                 └─ serveHandoff + HandoffScheduler(plannedTransfers(state, self, partitions))
 *
 * A node object is one *boot*: a crash ends it for good and a restart makes a new one on the same
 * volume, with a random stream forked for that boot, so a restarted node never replays the epochs,
 * request ids or transfer ids of an earlier boot.
 */
import {
  type BucketProps,
  KvCoordinator,
  kvVnodeProtocol,
  serveVnodes,
  TransportForwarder,
  VnodeClient,
} from '../coordinator/index.ts'
import type { Cancel, Random } from '../core/index.ts'
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
  type MemberRole,
  MembershipService,
  type MembershipServiceInit,
} from '../membership/index.ts'
import { createRing, type MemberId, type Ring } from '../ring/index.ts'
import { MemoryStorage, type MemoryVolume } from '../storage/index.ts'
import type { PeerId } from '../transport/index.ts'
import { VnodeManager } from '../vnode/index.ts'
import type { SimNetwork } from './sim-network.ts'
import type { SimScheduler } from './sim-scheduler.ts'
import type { SimTransport } from './sim-transport.ts'

/** Settings every node of a cluster shares; {@link SimCluster} fills them from `SimClusterInit`. */
export interface SimNodeSettings {
  /** Cluster name: part of every protocol id and topic. */
  readonly cluster: string
  /** Quorum settings of every bucket. */
  readonly bucket: BucketProps
  /** Timeout of a coordinated request, in ms. */
  readonly requestTimeoutMs: number
  /** Options of each node's membership service (the cluster name and start state are set per boot). */
  readonly membership: Omit<MembershipServiceInit, 'cluster' | 'state' | 'member'>
  /** Options of each node's handoff scheduler (the cluster name and completion hook are set per boot). */
  readonly handoff: Omit<HandoffSchedulerInit, 'cluster' | 'onComplete'>
  /** Period at which a node re-plans its transfers (new hints appear without a state change), in ms. */
  readonly handoffTickMs: number
}

/** What one boot of a node needs. */
export interface SimNodeBoot {
  readonly id: MemberId
  readonly role: MemberRole
  /** Which boot of the node this is, from 1. The node announces `sim://<id>/<boot>` as its address. */
  readonly boot: number
  /** The node's disk. */
  readonly volume: MemoryVolume
  /** The cluster state the node starts from (what it persisted, or a seed node's state). */
  readonly state: ClusterState
  /** This boot's random stream: fork it per node and per boot. */
  readonly random: Random
  readonly network: SimNetwork
  readonly scheduler: SimScheduler
  readonly settings: SimNodeSettings
  /** Called with every state the membership service adopts: the node persists it for its next boot. */
  readonly persist: (state: ClusterState) => void
  /** Called when a vnode callback failed with something unexpected (a bug). */
  readonly onVnodeError: (detail: { partition: number; callback: string; error: unknown }) => void
}

/** One boot of a simulated node; see the module comment. Create it with {@link SimNode.boot}. */
export class SimNode {
  /** The node's member id (also its peer id on the network). */
  readonly id: MemberId
  /** `owner` or `guest`. */
  readonly role: MemberRole
  /** This boot's transport; it dies with the boot. */
  readonly transport: SimTransport
  /** This boot's storage, on the node's volume. */
  readonly storage: MemoryStorage
  /** The KV vnodes of this boot. */
  readonly manager: KvVnodeManager
  /** Coordinates client requests from this node. */
  readonly coordinator: KvCoordinator
  /** This node's view of the cluster state, kept by gossip. */
  readonly membership: MembershipService
  /** Runs this node's ownership and hinted handoffs. */
  readonly handoff: HandoffScheduler
  readonly #network: SimNetwork
  readonly #stops: Array<() => void> = []
  #crashed = false
  #ring: { state: ClusterState; ring: Ring | undefined } | undefined

  private constructor(boot: SimNodeBoot) {
    const { id, network, scheduler, settings, random } = boot
    this.id = id
    this.role = boot.role
    this.#network = network
    this.transport = network.nodeIds().includes(id)
      ? network.restart(id)
      : network.createTransport(id)
    this.storage = new MemoryStorage({ volume: boot.volume })
    const protocol = kvVnodeProtocol(settings.cluster)
    const client = new VnodeClient({
      transport: this.transport,
      protocol,
      random: random.fork('client'),
    })
    this.manager = new VnodeManager({
      behaviour: new KvVnode({ memberId: id, random: random.fork('kv') }),
      storage: this.storage,
      forwarder: new TransportForwarder(client, { timeoutMs: settings.requestTimeoutMs }),
    })
    this.manager.addEventListener('vnode:error', (event) => boot.onVnodeError(event.detail))
    this.membership = new MembershipService(
      { transport: this.transport, clock: scheduler, scheduler, random: random.fork('membership') },
      {
        ...settings.membership,
        cluster: settings.cluster,
        state: boot.state,
        member: { role: boot.role, addresses: [`sim://${id}/${boot.boot}`] },
      },
    )
    const authorize = (peer: PeerId): boolean => {
      const member = getMember(this.membership.state, peer)
      return member !== undefined && member.lifecycle !== 'removed'
    }
    this.#stops.push(serveVnodes(this.transport, this.manager, { protocol, authorize }))
    this.#stops.push(
      serveHandoff(this.transport, this.manager, { cluster: settings.cluster, authorize }),
    )
    this.coordinator = new KvCoordinator(
      {
        transport: this.transport,
        clock: scheduler,
        scheduler,
        random: random.fork('coordinator'),
      },
      {
        protocol,
        ring: () => this.ring(),
        isUp: (member) => {
          const known = getMember(this.membership.state, member)
          return known !== undefined && !isDown(known)
        },
        defaults: settings.bucket,
        timeoutMs: settings.requestTimeoutMs,
      },
    )
    this.handoff = new HandoffScheduler(
      {
        transport: this.transport,
        vnodes: this.manager,
        clock: scheduler,
        scheduler,
        random: random.fork('handoff'),
      },
      {
        ...settings.handoff,
        cluster: settings.cluster,
        onComplete: (transfer) => {
          if (transfer.type !== 'ownership') return
          this.membership.update((state) => completeTransfer(state, transfer, this.id))
        },
      },
    )
    this.membership.addEventListener('state:changed', (event) => {
      if (this.#crashed) return
      boot.persist(event.detail)
      this.#planTransfers()
    })
    this.#every(scheduler, settings.handoffTickMs, () => this.#planTransfers())
  }

  /** Starts a boot of a node: transport, vnodes holding data (fallbacks included), membership. */
  static async boot(boot: SimNodeBoot): Promise<SimNode> {
    const node = new SimNode(boot)
    await node.transport.start()
    await node.manager.start()
    await node.membership.start()
    node.#planTransfers()
    return node
  }

  /** Whether this boot crashed. */
  get crashed(): boolean {
    return this.#crashed
  }

  /**
   * The ring requests route over: the current holders of each partition (the committed ring, except
   * where a transfer has not completed yet). Undefined before the node learned a commit.
   */
  ring(): Ring | undefined {
    const state = this.membership.state
    if (this.#ring?.state !== state) {
      const owners = currentOwners(state)
      this.#ring = { state, ring: owners && createRing(owners) }
    }
    return this.#ring.ring
  }

  /** Partitions holding data on this node's disk (primaries, hints, epoch records). */
  partitionsWithData(): number[] {
    return this.storage.volume.partitionsWithData()
  }

  /**
   * Crashes this boot: the transport dies, every write not yet durable is lost, timers stop. Nothing
   * is closed cleanly, so vnodes do not mark their epochs clean and restart with fresh ones.
   */
  crash(): void {
    if (this.#crashed) return
    this.#crashed = true
    for (const stop of this.#stops.splice(0)) stop()
    this.#network.crash(this.id)
    this.storage.crash()
    void this.membership.stop()
    void this.handoff.stop()
  }

  #planTransfers(): void {
    if (this.#crashed) return
    const planned = plannedTransfers(this.membership.state, this.id, this.partitionsWithData())
    this.handoff.update(planned)
  }

  #every(scheduler: SimScheduler, periodMs: number, fn: () => void): void {
    let cancel: Cancel = () => {}
    const run = (): void => {
      if (this.#crashed) return
      cancel = scheduler.schedule(periodMs, run)
      fn()
    }
    cancel = scheduler.schedule(periodMs, run)
    this.#stops.push(() => cancel())
  }
}
