/**
 * A whole simulated Dynamo cluster in one process (FoundationDB's simulator, TigerBeetle's VOPR): N
 * {@link SimNode}s, owners and guests, on one {@link SimNetwork} and {@link SimScheduler}, every random
 * stream forked from one seed. The cluster is also the nemesis's handle on the world: it crashes and
 * restarts nodes, wipes their disks, partitions and heals the network, and joins and removes members.
 *
 * Every node persists its cluster state on each change (a real node keeps it on disk), so a restarted
 * node resumes from its last state; a node whose disk was wiped, and a new node, start from a running
 * node's state instead (joining through a seed node), never from nothing.
 */
import { type BucketProps, DEFAULT_BUCKET_PROPS } from '../coordinator/index.ts'
import {
  InvalidArgumentError,
  MembershipError,
  SeededRandom,
  StalePlanError,
} from '../core/index.ts'
import type { HandoffSchedulerInit } from '../handoff/index.ts'
import {
  announce,
  type ClusterState,
  commit,
  emptyState,
  type MemberRole,
  type MembershipServiceInit,
  plan,
} from '../membership/index.ts'
import type { MemberId } from '../ring/index.ts'
import { MemoryVolume } from '../storage/index.ts'
import { type LinkProfile, SimNetwork, type SimTraceEntry } from './sim-network.ts'
import { SimNode, type SimNodeSettings } from './sim-node.ts'
import { SimScheduler } from './sim-scheduler.ts'

/** Options of a {@link SimCluster}. Every field but `seed` has a default. */
export interface SimClusterInit {
  /** The seed of every random stream. Required. */
  readonly seed: number
  /** Owners at the start, named `node-0` … Default 5. */
  readonly owners?: number
  /** Guests at the start (coordinate, own nothing), named `guest-0` … Default 1. */
  readonly guests?: number
  /** Q. Default 16. */
  readonly partitionCount?: number
  /**
   * Quorum settings of every bucket. Default n 3, r 2, w 2, dw 2: every acknowledgement is durable,
   * so a crash never loses an acknowledged write (see `checker.ts` for the exact guarantee).
   */
  readonly bucket?: Partial<BucketProps>
  /** Link delays and faults. Default: 1 ms minimum, 5 ms mean, no loss, no duplicates. */
  readonly links?: LinkProfile
  /** Timeout of a coordinated request and of a network request, in ms. Default 1000. */
  readonly requestTimeoutMs?: number
  /**
   * Membership service options over the fast simulation defaults: rounds of 100 ms, anti-entropy
   * every 1000 ms, suspect after 500 ms, down 1000 ms later, up after 3 heartbeats, auto claim after
   * 1000 ms of a stable member set.
   */
  readonly membership?: Partial<SimNodeSettings['membership']>
  /**
   * Handoff scheduler options over the simulation defaults: batches of 50 items, 1000 ms request
   * timeout, retries from 200 ms up to 2000 ms, forwarding linger 1000 ms.
   */
  readonly handoff?: Partial<Omit<HandoffSchedulerInit, 'cluster' | 'onComplete'>>
  /** Period at which nodes re-plan transfers, in ms. Default 500. */
  readonly handoffTickMs?: number
  /** Microtask turns the scheduler lets run after each event (see `SimSchedulerInit`). Default 64. */
  readonly microtaskTurns?: number
  /** Receives every network trace entry. Default: none. */
  readonly trace?: (entry: SimTraceEntry) => void
}

/** What the cluster keeps of a node across its boots: its disk, its persisted state, its history. */
interface NodeRecord {
  readonly id: MemberId
  readonly role: MemberRole
  volume: MemoryVolume
  persisted: ClusterState
  boots: number
  current: SimNode | undefined
  /** Virtual times at which the node's disk was wiped. */
  readonly wipedAtMs: number[]
}

/** An unexpected failure of a vnode callback, recorded as a bug. */
export interface VnodeFailure {
  readonly node: MemberId
  readonly partition: number
  readonly callback: string
  readonly error: unknown
}

const CLUSTER = 'sim'

/** The simulated cluster; see the module comment. Create it with {@link SimCluster.create}. */
export class SimCluster {
  /** The seed every random stream of the cluster is forked from. */
  readonly seed: number
  /** Virtual time and events of the whole simulation. */
  readonly scheduler: SimScheduler
  /** The network every node talks over; partitions and link faults go here. */
  readonly network: SimNetwork
  /** Quorum settings of every bucket. */
  readonly bucket: BucketProps
  /** Unexpected vnode failures seen so far (each is a bug). */
  readonly vnodeFailures: VnodeFailure[] = []
  readonly #random: SeededRandom
  readonly #settings: SimNodeSettings
  readonly #nodes = new Map<MemberId, NodeRecord>()
  /** The link profile the cluster was created with, which {@link heal} restores. */
  readonly #links: LinkProfile
  #events = 0

  private constructor(init: SimClusterInit) {
    this.seed = init.seed
    this.#random = new SeededRandom(init.seed)
    this.scheduler = new SimScheduler({ microtaskTurns: init.microtaskTurns ?? 64 })
    const requestTimeoutMs = init.requestTimeoutMs ?? 1000
    this.#links = { minDelayMs: 1, meanDelayMs: 5, lossRate: 0, duplicateRate: 0, ...init.links }
    this.network = new SimNetwork({
      scheduler: this.scheduler,
      random: this.#random.fork('network'),
      requestTimeoutMs,
      ...this.#links,
      ...(init.trace && { trace: init.trace }),
    })
    this.bucket = { ...DEFAULT_BUCKET_PROPS, dw: 2, ...init.bucket }
    const partitionCount = init.partitionCount ?? 16
    this.#settings = {
      cluster: CLUSTER,
      bucket: this.bucket,
      requestTimeoutMs,
      membership: {
        gossipIntervalMs: 100,
        antiEntropyIntervalMs: 1000,
        exchangeTimeoutMs: 500,
        detector: { suspectAfterMs: 500, downAfterMs: 1000, upAfterHeartbeats: 3 },
        autoClaim: { stableMs: 1000, partitionCount, targetN: this.bucket.n },
        ...init.membership,
      } satisfies Omit<MembershipServiceInit, 'cluster' | 'state' | 'member'>,
      handoff: {
        batchItemsMax: 50,
        requestTimeoutMs,
        retryBaseMs: 200,
        retryMaxMs: 2000,
        forwardingLingerMs: 1000,
        ...init.handoff,
      },
      handoffTickMs: init.handoffTickMs ?? 500,
    }
  }

  /**
   * Builds and starts a cluster whose owners already agree on a first commit (as after an operator's
   * plan and commit), so workloads can start at time 0. Throws `InvalidArgumentError` for fewer than
   * one owner.
   */
  static async create(init: SimClusterInit): Promise<SimCluster> {
    const cluster = new SimCluster(init)
    const owners = Array.from({ length: init.owners ?? 5 }, (_, i) => `node-${i}`)
    const guests = Array.from({ length: init.guests ?? 1 }, (_, i) => `guest-${i}`)
    if (owners.length < 1) throw new InvalidArgumentError('a cluster needs at least one owner')
    let state = emptyState
    for (const id of owners) state = announce(state, { id }, id)
    for (const id of guests) state = announce(state, { id, role: 'guest' }, id)
    const auto = cluster.#settings.membership.autoClaim
    const joins = owners.map((id) => ({ kind: 'join' as const, id }))
    state = commit(state, plan(state, joins, owners[0]!, auto === false ? {} : auto))
    for (const id of owners) await cluster.#boot(cluster.#record(id, 'owner', state))
    for (const id of guests) await cluster.#boot(cluster.#record(id, 'guest', state))
    return cluster
  }

  /** Ids of every node ever started, sorted. */
  ids(): MemberId[] {
    return [...this.#nodes.keys()].sort()
  }

  /** The running boot of every node that is up, by id. */
  running(): SimNode[] {
    return this.ids().flatMap((id) => this.#nodes.get(id)?.current ?? [])
  }

  /** The running boot of `id`, or undefined while it is crashed. Throws `InvalidArgumentError` for an unknown node. */
  node(id: MemberId): SimNode | undefined {
    return this.#get(id).current
  }

  /** The role `id` was started with. */
  roleOf(id: MemberId): MemberRole {
    return this.#get(id).role
  }

  /** Virtual times at which `id`'s disk was wiped. */
  wipedAtMs(id: MemberId): readonly number[] {
    return this.#get(id).wipedAtMs
  }

  /** Events the scheduler ran through this cluster's run methods. */
  get events(): number {
    return this.#events
  }

  /** Crashes `id` if it runs: its transport dies and its writes that were not durable are lost. */
  crash(id: MemberId): void {
    const record = this.#get(id)
    record.current?.crash()
    record.current = undefined
  }

  /** Restarts a crashed `id` on its disk, from the state it persisted. Does nothing if it runs. */
  async restart(id: MemberId): Promise<void> {
    const record = this.#get(id)
    if (record.current === undefined) await this.#boot(record)
  }

  /**
   * Wipes `id`'s disk (a browser clearing site data): crashes it if it runs, gives it an empty volume
   * and restarts it from a running node's state, as a node rejoining through a seed node.
   */
  async wipe(id: MemberId): Promise<void> {
    const record = this.#get(id)
    this.crash(id)
    record.volume = new MemoryVolume()
    record.wipedAtMs.push(this.scheduler.now())
    record.persisted = this.#seedState(id)
    await this.#boot(record)
  }

  /**
   * Starts a new node `id` that joins through a running node (it starts from that node's state and
   * announces itself; auto claim commits an owner's join once the member set is stable). Throws
   * `InvalidArgumentError` if `id` exists.
   */
  async join(id: MemberId, role: MemberRole = 'owner'): Promise<void> {
    if (this.#nodes.has(id)) throw new InvalidArgumentError(`node ${id} exists`)
    await this.#boot(this.#record(id, role, this.#seedState(id)))
  }

  /**
   * Has running owner `id` stage, plan and commit its own leave: its partitions are handed off, then
   * it is `exiting`. Returns false (and changes nothing) when the leave is refused: `id` is not
   * running, not a valid owner, or the plan is invalid or stale.
   */
  leave(id: MemberId): boolean {
    const node = this.#get(id).current
    if (node === undefined) return false
    const auto = this.#settings.membership.autoClaim
    try {
      node.membership.update((state) =>
        commit(state, plan(state, [{ kind: 'leave', id }], id, auto === false ? {} : auto)),
      )
      return true
    } catch (error) {
      if (error instanceof MembershipError || error instanceof StalePlanError) return false
      throw error
    }
  }

  /** Splits the network into `groups` (see `SimNetwork.partition`). */
  partition(groups: readonly (readonly MemberId[])[]): void {
    this.network.partition(groups)
  }

  /**
   * Makes every link lose and duplicate messages at these rates (until {@link restoreLinks} or
   * {@link heal}). Throws `InvalidArgumentError` for a rate outside [0, 1].
   */
  degradeLinks(lossRate: number, duplicateRate: number): void {
    this.network.configure({ lossRate, duplicateRate })
  }

  /** Gives every link the loss and duplication rates the cluster was created with again. */
  restoreLinks(): void {
    this.network.configure(this.#links)
  }

  /** Removes every partition and link fault and restores the links' rates; crashed nodes stay crashed. */
  heal(): void {
    this.network.heal()
    this.restoreLinks()
  }

  /** Runs `durationMs` of virtual time. */
  async runFor(durationMs: number): Promise<void> {
    this.#events += await this.scheduler.runFor(durationMs)
  }

  /**
   * Runs until `done()` holds, checking every `stepMs`; resolves with the virtual time it first held,
   * or undefined if it still did not hold after `limitMs`.
   */
  async runUntil(done: () => boolean, limitMs: number, stepMs = 50): Promise<number | undefined> {
    const endMs = this.scheduler.now() + limitMs
    while (!done()) {
      if (this.scheduler.now() >= endMs) return undefined
      await this.runFor(Math.min(stepMs, endMs - this.scheduler.now()))
    }
    return this.scheduler.now()
  }

  /**
   * Runs the simulation until `promise` settles and returns its outcome. Throws `InvariantError` if it
   * is still pending after `limitMs` of virtual time (default 60 000): in a simulation, a hang.
   */
  settle<T>(promise: Promise<T>, limitMs = 60_000): Promise<T> {
    return this.scheduler.settle(promise, this.scheduler.now() + limitMs)
  }

  #record(id: MemberId, role: MemberRole, state: ClusterState): NodeRecord {
    const record: NodeRecord = {
      id,
      role,
      volume: new MemoryVolume(),
      persisted: state,
      boots: 0,
      current: undefined,
      wipedAtMs: [],
    }
    this.#nodes.set(id, record)
    return record
  }

  async #boot(record: NodeRecord): Promise<void> {
    record.boots++
    record.current = await SimNode.boot({
      id: record.id,
      role: record.role,
      boot: record.boots,
      volume: record.volume,
      state: record.persisted,
      random: this.#random.fork(`node/${record.id}/boot/${record.boots}`),
      network: this.network,
      scheduler: this.scheduler,
      settings: this.#settings,
      persist: (state) => {
        record.persisted = state
      },
      onVnodeError: (detail) => this.vnodeFailures.push({ node: record.id, ...detail }),
    })
  }

  /** The state of the first running node other than `id`: the seed node a (re)joining node contacts. */
  #seedState(id: MemberId): ClusterState {
    const contact = this.running().find((node) => node.id !== id)
    return contact?.membership.state ?? this.#nodes.get(id)?.persisted ?? emptyState
  }

  #get(id: MemberId): NodeRecord {
    const record = this.#nodes.get(id)
    if (record === undefined) throw new InvalidArgumentError(`unknown node ${id}`)
    return record
  }
}
