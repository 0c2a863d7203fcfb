/**
 * One simulated node of a {@link SimCluster}: the services a real node runs (`wireServices`: KV
 * vnodes, coordinator, membership, handoff) on its {@link SimTransport} and a `MemoryStorage` on the
 * node's {@link MemoryVolume} (the volume is its disk: it survives crashes, which lose only the writes
 * that were not durable). Every state the membership service adopts is persisted for the next boot,
 * and transfers are re-planned on every state change and every `handoffTickMs`.
 *
 * A node object is one *boot*: a crash ends it for good and a restart makes a new one on the same
 * volume, with a random stream forked for that boot, so a restarted node never replays the epochs,
 * request ids or transfer ids of an earlier boot.
 */
import type { BucketProps, KvCoordinator } from '../coordinator/index.ts'
import type { Cancel, Random } from '../core/index.ts'
import type { HandoffScheduler, HandoffSchedulerInit } from '../handoff/index.ts'
import type { KvVnodeManager } from '../kv/index.ts'
import type {
  ClusterState,
  MemberRole,
  MembershipService,
  MembershipServiceInit,
} from '../membership/index.ts'
import { type NodeServices, wireServices } from '../node/services.ts'
import type { MemberId, Ring } from '../ring/index.ts'
import { MemoryStorage, type MemoryVolume } from '../storage/index.ts'
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
  readonly #services: NodeServices
  readonly #stops: Array<() => void> = []
  #crashed = false

  private constructor(boot: SimNodeBoot) {
    const { id, network, scheduler, settings } = boot
    this.id = id
    this.role = boot.role
    this.#network = network
    this.transport = network.nodeIds().includes(id)
      ? network.restart(id)
      : network.createTransport(id)
    this.storage = new MemoryStorage({ volume: boot.volume })
    this.#services = wireServices(
      {
        transport: this.transport,
        storage: this.storage,
        clock: scheduler,
        scheduler,
        random: boot.random,
      },
      {
        cluster: settings.cluster,
        membership: {
          ...settings.membership,
          state: boot.state,
          member: { role: boot.role, addresses: [`sim://${id}/${boot.boot}`] },
        },
        handoff: settings.handoff,
        bucketDefaults: settings.bucket,
        requestTimeoutMs: settings.requestTimeoutMs,
      },
    )
    this.manager = this.#services.manager
    this.membership = this.#services.membership
    this.coordinator = this.#services.coordinator
    this.handoff = this.#services.handoff
    this.#stops.push(() => this.#services.unserve())
    this.manager.addEventListener('vnode:error', (event) => boot.onVnodeError(event.detail))
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
    return this.#services.ring()
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
    this.#services.planTransfers(this.partitionsWithData())
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
