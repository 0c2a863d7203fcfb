/**
 * The composition root of a Solar Orbit node, the same in Node, Deno and browsers: it takes the
 * runtime's adapters (a transport, a storage, the clock, timer and random ports), wires the protocol
 * services on them (`wireServices`: vnodes, coordinator, membership, handoff, as riak_core's
 * application supervisor starts the vnode master, the claimant, gossip and the handoff manager), and
 * adds what a running node needs around them:
 *
 *   transport ── RoutedTransport (one-hop forwarding to non-adjacent members, see routed-transport.ts)
 *       ├─ wireServices        membership on the transport itself; vnodes, coordinator and handoff
 *       │                      on the routed one; requests go to members not down and reachable
 *       ├─ persistence         every state change is saved through the state store
 *       ├─ transfer planning   on every state change and tick, from the partitions holding data
 *       └─ a dialler that keeps a connection to every member whose addresses it knows
 *
 * Requests on the vnode and handoff protocols are served only to members of the cluster state (guests
 * included, tombstones excluded); the membership exchange itself accepts any peer of the cluster,
 * so a joining peer can introduce itself. A node started with `bootstrap` addresses dials them and
 * exchanges states with one before its membership starts, so it never claims a ring of its own.
 *
 * This module imports no runtime API (`node:*`, DOM): entry points (`node.ts` for Node and Deno, the
 * browser entry) build the adapters and call {@link assembleNode}.
 */
import type {
  BucketProps,
  GetOptions,
  GetResult,
  ListKeysOptions,
  ListKeysResult,
  PutOptions,
  PutResult,
} from '../coordinator/index.ts'
import type { Clock, Random, Scheduler } from '../core/index.ts'
import { SolarOrbitError } from '../core/index.ts'
import type { HandoffSchedulerInit, HandoffStatus, TransferProgress } from '../handoff/index.ts'
import {
  type AutoClaimInit,
  announce,
  type ClusterState,
  decodeStateMessage,
  emptyState,
  encodeStateMessage,
  type MemberRole,
  type MembershipServiceInit,
  merge,
  stateProtocol,
} from '../membership/index.ts'
import type { KeyPart, MemberId, Ring } from '../ring/index.ts'
import type { NodeStorage } from '../storage/index.ts'
import type { PeerId } from '../transport/index.ts'
import { TypedEventEmitter, UnreachableError } from '../transport/index.ts'
import type { VnodeInfo } from '../vnode/index.ts'
import { type DialableTransport, RoutedTransport } from './routed-transport.ts'
import { type NodeLogger, wireServices } from './services.ts'

export type { NodeLogger } from './services.ts'

/** Where a node keeps its cluster state between runs (a file in Node and Deno, IndexedDB in browsers). */
export interface ClusterStateStore {
  /** The state saved last, or undefined on a first start. */
  load(): Promise<ClusterState | undefined>
  /** Saves `state`; calls never overlap (the node waits for one before the next). */
  save(state: ClusterState): Promise<void>
}

/** What a node runs on; entry points build these for their runtime. */
export interface NodeComponents {
  /**
   * The node's transport, created (started or not). `Libp2pTransport` fits; its optional `connect`
   * is used for `bootstrap` and to keep members connected, `multiaddrs` for the announced addresses.
   */
  readonly transport: DialableTransport
  /** The node's storage; {@link SolarOrbitNode.stop} closes it. */
  readonly storage: NodeStorage
  readonly clock: Clock
  readonly scheduler: Scheduler
  /** Must not replay across restarts (`cryptoSeededRandom()`); forked per subsystem. */
  readonly random: Random
  /**
   * Persists the cluster state, so a restarted node knows the ring and its members' addresses before it
   * hears from anyone (and never auto-claims a ring of its own). Default: none (memory only).
   */
  readonly stateStore?: ClusterStateStore
  /** Debug logger. Default: none. */
  readonly log?: NodeLogger
}

/** Options of {@link assembleNode}; every field has a default. */
export interface AssembleInit {
  /** Cluster name, 1-64 of `[A-Za-z0-9._-]`: part of every protocol id and topic. Default `'solar-orbit'`. */
  readonly cluster?: string
  /** `owner` claims partitions; `guest` coordinates and keeps hints but owns nothing. Default `'owner'`. */
  readonly role?: MemberRole
  /** Relative weight in claim. Default 1. */
  readonly capacity?: number
  /** Failure domain (rack, zone, region) for location-aware claim. Default: none. */
  readonly location?: string
  /** Addresses to announce. Default: the transport's `multiaddrs()`, if it has them. */
  readonly addresses?: readonly string[]
  /** Multiaddrs of members to join through (dialled, then one state exchange). Default: none. */
  readonly bootstrap?: readonly string[]
  /** Q of the first commit. Default 64. */
  readonly partitionCount?: number
  /** Claim spacing (riak_core's target_n_val). Default 4. */
  readonly targetN?: number
  /** Quorum settings of every bucket (n, r, w, pr, pw, dw). Default: n 3, r 2, w 2. */
  readonly bucketDefaults?: Partial<BucketProps>
  /** Timeout of one coordinated request, in ms. Default 5000. */
  readonly requestTimeoutMs?: number
  /** Auto mode (plan and commit once the member set held still), or `false`. Default `{ stableMs: 3000 }`. */
  readonly autoClaim?: { readonly stableMs?: number; readonly removeDownAfterMs?: number } | false
  /** Membership tuning (gossip interval, anti-entropy, failure detector). Default: the service's. */
  readonly membership?: Omit<MembershipServiceInit, 'cluster' | 'member' | 'state' | 'autoClaim'>
  /** Handoff tuning (concurrency, batch sizes, retries). Default: the scheduler's. */
  readonly handoff?: Omit<HandoffSchedulerInit, 'cluster' | 'onComplete' | 'log'>
  /** Period of re-planning transfers (new hints appear without a state change) and of redialling members, in ms. Default 1000. */
  readonly tickMs?: number
}

/** Detail of `'request:done'`: one KV request through {@link SolarOrbitNode.kv}. */
export interface RequestDone {
  readonly op: 'get' | 'put' | 'delete' | 'listKeys'
  readonly bucket: string
  /** Empty for `listKeys`. */
  readonly key: string
  /** Time from call to settlement, in ms. */
  readonly ms: number
  readonly ok: boolean
  /** The error's code when not ok. */
  readonly code?: string
}

/** Events of a {@link SolarOrbitNode}. */
export interface SolarOrbitNodeEvents {
  'state:changed': ClusterState
  'ring:changed': ClusterState
  'member:down': MemberId
  'member:up': MemberId
  'handoff:progress': TransferProgress
  'handoff:finished': TransferProgress
  'request:done': RequestDone
}

/** The KV API of a node: the coordinator's, on any node (guests included). */
export interface NodeKv {
  get(bucket: KeyPart, key: KeyPart, options?: GetOptions): Promise<GetResult>
  put(bucket: KeyPart, key: KeyPart, value: Uint8Array, options?: PutOptions): Promise<PutResult>
  delete(bucket: KeyPart, key: KeyPart, options?: PutOptions): Promise<PutResult>
  listKeys(bucket: KeyPart, options?: ListKeysOptions): Promise<ListKeysResult>
}

/** A running node. */
export interface SolarOrbitNode {
  /** This node's member id (its peer id). */
  readonly id: string
  /** The cluster name. */
  readonly cluster: string
  readonly kv: NodeKv
  /** The cluster state as this node holds it now. */
  state(): ClusterState
  /** The ring requests route over (current holders), or undefined before the first commit. */
  ring(): Ring | undefined
  /** The running vnodes of this node. */
  vnodes(): VnodeInfo[]
  /** Every transfer this node runs or waits to run, each waiting one with its reason. */
  handoffs(): HandoffStatus
  /** Peers this node is directly connected to. */
  peers(): PeerId[]
  /** Requests this node forwarded for members that had no direct connection to their target. */
  forwarded(): number
  /** Stops gossip, handoff, vnodes (marking their epochs clean), the transport and the storage, in that order. */
  stop(): Promise<void>
  addEventListener<K extends keyof SolarOrbitNodeEvents & string>(
    type: K,
    listener: (event: CustomEvent<SolarOrbitNodeEvents[K]>) => void,
    options?: boolean | AddEventListenerOptions,
  ): void
  removeEventListener<K extends keyof SolarOrbitNodeEvents & string>(
    type: K,
    listener: (event: CustomEvent<SolarOrbitNodeEvents[K]>) => void,
    options?: boolean | EventListenerOptions,
  ): void
}

const noLog: NodeLogger = Object.assign(() => {}, { error: () => {} })
const textDecoder = new TextDecoder()

/**
 * Wires and starts a node on `components`; see the module comment. Starts the transport, joins
 * through `init.bootstrap` (rejecting with `UnreachableError` when none answers and the node knows no
 * other member), restarts vnodes for partitions holding data, and starts membership and handoff.
 */
export async function assembleNode(
  components: NodeComponents,
  init: AssembleInit = {},
): Promise<SolarOrbitNode> {
  const cluster = init.cluster ?? 'solar-orbit'
  const log = components.log ?? noLog
  const { clock, scheduler, random, storage } = components
  const inner = components.transport
  const self = inner.self
  const tickMs = init.tickMs ?? 1000

  await inner.start()
  const addresses = init.addresses ?? inner.multiaddrs?.() ?? []
  const memberInit = {
    role: init.role ?? 'owner',
    ...(init.capacity !== undefined && { capacity: init.capacity }),
    ...(init.location !== undefined && { location: init.location }),
    addresses,
  }

  // Where we start from: what we saved, merged with what a bootstrap peer holds.
  let state: ClusterState = (await components.stateStore?.load()) ?? emptyState
  if (init.bootstrap !== undefined && init.bootstrap.length > 0) {
    state = await join(inner, cluster, state, init.bootstrap, { ...memberInit, id: self }, log)
  }

  // The membership service runs on the inner transport for its exchange and heartbeats; its
  // failure detector and exchanges then see direct connections only, which is what they need: the
  // exchange of a peer that is not adjacent still reaches us through gossip and anti-entropy.
  const transport = new RoutedTransport(inner, {
    cluster,
    members: () => services.membership.state.members,
    authorize: (peer) => services.isMember(peer),
  })
  const services = wireServices(
    { transport, membershipTransport: inner, storage, clock, scheduler, random, log },
    {
      cluster,
      membership: { ...init.membership, member: memberInit, state, autoClaim: autoClaimInit(init) },
      ...(init.handoff !== undefined && { handoff: init.handoff }),
      ...(init.bucketDefaults !== undefined && { bucketDefaults: init.bucketDefaults }),
      requestTimeoutMs: init.requestTimeoutMs ?? 5000,
      reaches: (member) => transport.reaches(member),
    },
  )
  const { manager, membership, coordinator, handoff, ring } = services
  manager.addEventListener('vnode:error', (event) => {
    log.error(
      'vnode %d: %s failed - %o',
      event.detail.partition,
      event.detail.callback,
      event.detail.error,
    )
  })

  const events = new TypedEventEmitter<SolarOrbitNodeEvents>()
  for (const type of ['state:changed', 'ring:changed'] as const) {
    membership.addEventListener(type, (event) => events.emit(type, event.detail))
  }
  for (const type of ['member:down', 'member:up'] as const) {
    membership.addEventListener(type, (event) => events.emit(type, event.detail))
  }
  for (const type of ['handoff:progress', 'handoff:finished'] as const) {
    handoff.addEventListener(type, (event) => events.emit(type, event.detail))
  }
  handoff.addEventListener('handoff:failed', (event) => {
    const { id, attempt, cause } = event.detail
    log('transfer %s attempt %d failed: %s', id, attempt, cause)
  })

  // Persistence of the state: one save at a time, the latest state wins.
  let stopped = false
  const persist = serialized(async () => {
    if (components.stateStore === undefined) return
    await components.stateStore.save(membership.state)
  }, log)
  // Transfers: re-planned on every state change and every tick (hints appear without a change).
  const plan = serialized(async () => {
    if (stopped) return
    const holding = await storage.partitions()
    if (stopped) return
    services.planTransfers(holding)
  }, log)
  membership.addEventListener('state:changed', () => {
    persist()
    plan()
    dialler.kick()
  })

  const dialler = new Dialler(inner, () => membership.state, self, clock, log)

  await manager.start()
  await membership.start()
  persist()
  plan()
  dialler.kick()
  let cancelTick = scheduler.schedule(tickMs, function tick() {
    if (stopped) return
    plan()
    dialler.kick()
    cancelTick = scheduler.schedule(tickMs, tick)
  })

  const timed = async <T>(
    op: RequestDone['op'],
    bucket: KeyPart,
    key: KeyPart | undefined,
    run: () => Promise<T>,
  ): Promise<T> => {
    const started = clock.now()
    const done = (ok: boolean, error?: unknown): void => {
      events.emit('request:done', {
        op,
        bucket: asText(bucket),
        key: key === undefined ? '' : asText(key),
        ms: clock.now() - started,
        ok,
        ...(error instanceof SolarOrbitError && { code: error.code }),
      })
    }
    try {
      const result = await run()
      done(true)
      return result
    } catch (error) {
      done(false, error)
      throw error
    }
  }

  const kv: NodeKv = {
    get: (bucket, key, options) =>
      timed('get', bucket, key, () => coordinator.get(bucket, key, options)),
    put: (bucket, key, value, options) =>
      timed('put', bucket, key, () => coordinator.put(bucket, key, value, options)),
    delete: (bucket, key, options) =>
      timed('delete', bucket, key, () => coordinator.delete(bucket, key, options)),
    listKeys: (bucket, options) =>
      timed('listKeys', bucket, undefined, () => coordinator.listKeys(bucket, options)),
  }

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopped = true
      cancelTick()
      await membership.stop()
      await persist.idle()
      await handoff.stop()
      await plan.idle()
      services.unserve()
      await manager.stop()
      transport.detach()
      await inner.stop()
      await storage.close()
    })()
    return stopping
  }

  return {
    id: self,
    cluster,
    kv,
    state: () => membership.state,
    ring,
    vnodes: () => manager.running(),
    handoffs: () => handoff.status(),
    peers: () => inner.peers(),
    forwarded: () => transport.forwarded,
    stop,
    addEventListener: (type, listener, options) => events.addEventListener(type, listener, options),
    removeEventListener: (type, listener, options) =>
      events.removeEventListener(type, listener, options),
  }
}

function autoClaimInit(init: AssembleInit): AutoClaimInit | false {
  if (init.autoClaim === false) return false
  return {
    stableMs: init.autoClaim?.stableMs ?? 3000,
    ...(init.autoClaim?.removeDownAfterMs !== undefined && {
      removeDownAfterMs: init.autoClaim.removeDownAfterMs,
    }),
    partitionCount: init.partitionCount ?? 64,
    targetN: init.targetN ?? 4,
  }
}

/**
 * Dials `bootstrap` addresses and exchanges states with the first peer that answers: our state with
 * us announced goes in, theirs comes back merged. Rejects with `UnreachableError` when nobody answered
 * and `state` knows no other member (a restart with a saved state may proceed alone).
 */
async function join(
  transport: DialableTransport,
  cluster: string,
  state: ClusterState,
  bootstrap: readonly string[],
  member: Parameters<typeof announce>[1],
  log: NodeLogger,
): Promise<ClusterState> {
  const announced = announce(state, member, member.id)
  let lastError: unknown
  for (const address of bootstrap) {
    try {
      if (transport.connect === undefined) throw new UnreachableError(address, 'cannot dial')
      const peer = await transport.connect(address)
      if (peer === transport.self) continue
      const response = await transport.request(
        peer,
        stateProtocol(cluster),
        encodeStateMessage(cluster, announced),
      )
      return merge(announced, decodeStateMessage(response, cluster))
    } catch (error) {
      lastError = error
      log('joining through %s failed - %o', address, error)
    }
  }
  if (state.members.some((m) => m.id !== transport.self)) return state
  throw lastError instanceof SolarOrbitError
    ? lastError
    : new UnreachableError(bootstrap.join(', '), 'no bootstrap peer answered')
}

/**
 * Keeps a connection to every live member whose addresses are known, redialling with a backoff per
 * member (1 s, doubling, at most 30 s). Members' addresses come from the cluster state; a member that
 * changed address (a restart on a new port) announces the new one and is dialled there.
 */
class Dialler {
  readonly #transport: DialableTransport
  readonly #state: () => ClusterState
  readonly #self: PeerId
  readonly #clock: Clock
  readonly #log: NodeLogger
  readonly #next = new Map<PeerId, { atMs: number; delayMs: number }>()
  readonly #dialling = new Set<PeerId>()

  constructor(
    transport: DialableTransport,
    state: () => ClusterState,
    self: PeerId,
    clock: Clock,
    log: NodeLogger,
  ) {
    this.#transport = transport
    this.#state = state
    this.#self = self
    this.#clock = clock
    this.#log = log
  }

  kick(): void {
    const connect = this.#transport.connect?.bind(this.#transport)
    if (connect === undefined || !this.#transport.isStarted()) return
    const connected = new Set(this.#transport.peers())
    const now = this.#clock.now()
    for (const m of this.#state().members) {
      if (m.id === this.#self || m.lifecycle === 'removed' || m.lifecycle === 'exiting') continue
      if (connected.has(m.id)) {
        this.#next.delete(m.id)
        continue
      }
      const dialable = m.addresses.filter((a) => !a.includes('/p2p-circuit'))
      if (dialable.length === 0 || this.#dialling.has(m.id)) continue
      const backoff = this.#next.get(m.id)
      if (backoff !== undefined && now < backoff.atMs) continue
      this.#dialling.add(m.id)
      void this.#dial(m.id, dialable, connect).finally(() => this.#dialling.delete(m.id))
    }
  }

  async #dial(
    peer: PeerId,
    addresses: readonly string[],
    connect: (address: string) => Promise<PeerId>,
  ): Promise<void> {
    for (const address of addresses) {
      const full = address.includes('/p2p/') ? address : `${address}/p2p/${peer}`
      try {
        await connect(full)
        this.#next.delete(peer)
        return
      } catch {
        // Try the next address.
      }
    }
    const delayMs = Math.min(30_000, (this.#next.get(peer)?.delayMs ?? 500) * 2)
    this.#next.set(peer, { atMs: this.#clock.now() + delayMs, delayMs })
    this.#log('cannot reach %s; retrying in %d ms', peer, delayMs)
  }
}

/** `run` wrapped so that calls never overlap and calls made while it runs coalesce into one more run. */
function serialized(
  run: () => Promise<void>,
  log: NodeLogger,
): (() => void) & { idle(): Promise<void> } {
  let running: Promise<void> | undefined
  let again = false
  const call = (): void => {
    if (running !== undefined) {
      again = true
      return
    }
    running = run()
      .catch((error: unknown) => log.error('background task failed - %o', error))
      .finally(() => {
        running = undefined
        if (again) {
          again = false
          call()
        }
      })
  }
  return Object.assign(call, {
    async idle(): Promise<void> {
      while (running !== undefined) await running
    },
  })
}

function asText(part: KeyPart): string {
  return typeof part === 'string' ? part : textDecoder.decode(part)
}
