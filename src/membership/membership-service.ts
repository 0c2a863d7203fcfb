/**
 * Membership on the Transport port: one member's running view of the cluster state, kept in step with
 * the others (riak_core_gossip plus riak_core_node_watcher, for a mesh without Erlang distribution).
 *
 * Every gossip round (`gossipIntervalMs`) the member broadcasts a small {@link Heartbeat} on its
 * cluster's topic: who it is and a 64-bit digest of its state. A receiver whose own digest differs
 * exchanges full states with the sender over {@link stateProtocol}: its request carries its state,
 * the response carries the sender's state after merging it in, and both sides merge, so one exchange
 * leaves both holding at least the union. Gossip is a hint; the exchange is the truth. Because
 * broadcasts are best effort, every `antiEntropyIntervalMs` the member also exchanges with `fanout`
 * peers drawn through the Random port, so convergence never depends on broadcast delivery.
 *
 * Heartbeats feed a {@link FailureDetector} (only heartbeats, so steadiness is measured in rounds).
 * When it declares a member down, this member marks it down in the state (`markDown`), once per
 * declaration, and the mark spreads like any change. A member that finds itself marked down lifts
 * the mark with `announce`. Every round the member also runs auto mode (`autoClaim`), which commits
 * only on the designated claimant.
 *
 * All timers go through the Scheduler, time through the Clock and choices through Random, so a
 * cluster of services runs deterministically on `SimNetwork`.
 */
import type { Cancel, Clock, Random, Scheduler } from '../core/index.ts'
import {
  DecodeError,
  InvalidArgumentError,
  InvariantError,
  nextInt,
  SolarOrbitError,
} from '../core/index.ts'
import type { MemberId } from '../ring/index.ts'
import type { PeerId, Transport, TypedListener, Unsubscribe } from '../transport/index.ts'
import { TypedEventEmitter } from '../transport/index.ts'
import { type AutoClaimInit, type AutoClaimState, autoClaim } from './auto-claim.ts'
import {
  announce,
  type ClusterState,
  emptyState,
  equalStates,
  getMember,
  isDown,
  type MemberInit,
  markDown,
} from './cluster-state.ts'
import type { StateCodecInit } from './codec.ts'
import { FailureDetector, type FailureDetectorInit, type PeerHealth } from './failure-detector.ts'
import {
  checkClusterName,
  decodeHeartbeat,
  decodeStateMessage,
  encodeHeartbeat,
  encodeStateMessage,
  ForeignClusterError,
  heartbeatTopic,
  stateProtocol,
} from './gossip-codec.ts'
import { equalDigests, stateDigest } from './gossip-digest.ts'
import { type MembershipEvents, stateEvents } from './membership-events.ts'
import { merge } from './merge.ts'

/** Options of a {@link MembershipService}. */
export interface MembershipServiceInit {
  /** The cluster's name, 1-64 of `[A-Za-z0-9._-]`: part of the topic and protocol names, and checked in every message. Required. */
  readonly cluster: string
  /** How this member announces itself (its id is the transport's `self`). Default: an owner of capacity 1 with no location or addresses. */
  readonly member?: Omit<MemberInit, 'id'>
  /** The state to start from, restored from storage. Default: the empty state. */
  readonly state?: ClusterState
  /** One gossip round: the period of heartbeats, failure detection and auto mode, in ms. Default 1000. */
  readonly gossipIntervalMs?: number
  /** Period of anti-entropy exchanges with random peers, in ms. Default 10 000 (each carries the full state). */
  readonly antiEntropyIntervalMs?: number
  /** Peers drawn for each anti-entropy round. Default 1. */
  readonly fanout?: number
  /** Most exchanges that differing digests may have in flight at once. Default 2. */
  readonly exchangesMax?: number
  /** Timeout of one exchange, in ms. Default 5000. */
  readonly exchangeTimeoutMs?: number
  /** Failure detector thresholds; see {@link FailureDetectorInit} for the defaults. */
  readonly detector?: FailureDetectorInit
  /** Auto mode's options, or `false` to leave plan and commit to operators. Default `{}`: auto mode with its defaults (`stableMs` 10 000). */
  readonly autoClaim?: AutoClaimInit | false
  /** Size limit of encoded states, sent and received. Default: the state codec's (4 MiB). */
  readonly codec?: StateCodecInit
}

/** A debug logger; `@libp2p/logger`'s `Logger` (`forComponent('solar-orbit:membership')`) fits. */
export interface MembershipLogger {
  (formatter: string, ...args: unknown[]): void
  error(formatter: string, ...args: unknown[]): void
}

/** What a {@link MembershipService} runs on. */
export interface MembershipServiceComponents {
  readonly transport: Transport
  readonly clock: Clock
  readonly scheduler: Scheduler
  /** Draws sessions and anti-entropy peers; pass a fork of the node's stream. */
  readonly random: Random
  /** Debug logger. Default: none. */
  readonly log?: MembershipLogger
}

/** Counters of a service's traffic, for tests, benchmarks and operators. */
export interface GossipStats {
  heartbeatsSent: number
  heartbeatsReceived: number
  exchangesStarted: number
  exchangesFailed: number
  exchangesServed: number
  dropped: number
}

const noLog: MembershipLogger = Object.assign(() => {}, { error: () => {} })

/** One member's membership service; see the module comment. Created stopped. */
export class MembershipService extends TypedEventEmitter<MembershipEvents> {
  /** This member's id (the transport's `self`). */
  readonly self: MemberId
  /** The cluster's name. */
  readonly cluster: string
  private readonly components: MembershipServiceComponents
  private readonly memberInit: MemberInit
  private readonly gossipIntervalMs: number
  private readonly antiEntropyIntervalMs: number
  private readonly fanout: number
  private readonly exchangesMax: number
  private readonly exchangeTimeoutMs: number
  private readonly autoInit: AutoClaimInit | false
  private readonly codec: StateCodecInit
  private readonly detector: FailureDetector
  private readonly log: MembershipLogger
  private current: ClusterState
  private digestOf: { readonly state: ClusterState; readonly digest: Uint8Array } | undefined
  private auto: AutoClaimState | undefined
  private running = false
  private session = 0
  private counter = 0
  private readonly lastHeartbeat = new Map<PeerId, { session: number; counter: number }>()
  private readonly exchanging = new Set<PeerId>()
  private readonly stopping: Array<Cancel | Unsubscribe> = []
  private readonly counters: GossipStats = {
    heartbeatsSent: 0,
    heartbeatsReceived: 0,
    exchangesStarted: 0,
    exchangesFailed: 0,
    exchangesServed: 0,
    dropped: 0,
  }

  /** Throws {@link InvalidArgumentError} for a bad cluster name or option. */
  constructor(components: MembershipServiceComponents, init: MembershipServiceInit) {
    super()
    checkClusterName(init.cluster)
    this.components = components
    this.self = components.transport.self
    this.cluster = init.cluster
    this.memberInit = { ...init.member, id: this.self }
    this.gossipIntervalMs = positive(init.gossipIntervalMs ?? 1000, 'gossipIntervalMs')
    this.antiEntropyIntervalMs = positive(
      init.antiEntropyIntervalMs ?? 10_000,
      'antiEntropyIntervalMs',
    )
    this.fanout = positive(init.fanout ?? 1, 'fanout', true)
    this.exchangesMax = positive(init.exchangesMax ?? 2, 'exchangesMax', true)
    this.exchangeTimeoutMs = positive(init.exchangeTimeoutMs ?? 5000, 'exchangeTimeoutMs')
    this.autoInit = init.autoClaim ?? {}
    this.codec = init.codec ?? {}
    this.detector = new FailureDetector(init.detector)
    this.log = components.log ?? noLog
    this.current = init.state ?? emptyState
  }

  /** The cluster state as this member holds it now. */
  get state(): ClusterState {
    return this.current
  }

  /** The digest of {@link state} that heartbeats carry. */
  digest(): Uint8Array {
    if (this.digestOf?.state !== this.current) {
      this.digestOf = { state: this.current, digest: stateDigest(this.current, this.codec) }
    }
    return this.digestOf.digest
  }

  /** This member's failure detector's view of `peer`, or undefined when it does not watch it. */
  health(peer: MemberId): PeerHealth | undefined {
    return this.detector.health(peer)
  }

  /** A copy of the traffic counters. */
  stats(): GossipStats {
    return { ...this.counters }
  }

  /** Whether the service is started. */
  isStarted(): boolean {
    return this.running
  }

  /**
   * Serves the exchange protocol, subscribes to heartbeats and connection events, announces this
   * member (joining it, or lifting a down mark) and sends a heartbeat at once; rounds then follow at
   * a random phase. Start the transport first: while it is stopped, no heartbeat or exchange goes
   * out. Starting a started service does nothing.
   */
  async start(): Promise<void> {
    if (this.running) return
    const { transport, random } = this.components
    this.running = true
    this.session = random.nextU32()
    this.counter = 0
    transport.handle(stateProtocol(this.cluster), (request, from) => this.serve(request, from))
    this.stopping.push(
      () => transport.unhandle(stateProtocol(this.cluster)),
      transport.subscribe(heartbeatTopic(this.cluster), (data, from) =>
        this.onHeartbeat(data, from),
      ),
      this.listen('peer:connect', true),
      this.listen('peer:disconnect', false),
    )
    this.adopt(announce(this.current, this.memberInit, this.self))
    // A restart from a saved state that already holds this member unchanged adopts nothing: watch
    // the members it knows all the same.
    this.watch()
    this.heartbeat()
    // Random phases, so members started together do not gossip in lockstep.
    this.every(this.gossipIntervalMs, phase(random, this.gossipIntervalMs), () => this.round())
    this.every(this.antiEntropyIntervalMs, phase(random, this.antiEntropyIntervalMs), () =>
      this.antiEntropy(),
    )
  }

  /** Stops the rounds, the handler and the subscriptions; exchanges in flight are ignored when they end. Stopping a stopped service does nothing. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    for (const stop of this.stopping.splice(0)) stop()
  }

  /**
   * Applies a local change (an operator's commit, a completed transfer, new attributes) and returns
   * the new state, which the next heartbeat advertises. `change` receives the current state and
   * returns a successor, which is merged in (so nothing concurrent is lost); if it throws, nothing
   * changes and the error propagates.
   */
  update(change: (state: ClusterState) => ClusterState): ClusterState {
    this.adopt(merge(this.current, change(this.current)))
    return this.current
  }

  /** One gossip round: failure detection, auto mode, then the heartbeat (which so carries their outcome). */
  private round(): void {
    const nowMs = this.components.clock.now()
    for (const change of this.detector.evaluate(nowMs)) {
      this.log('%s sees %s go from %s to %s', this.self, change.peer, change.from, change.to)
      const member = getMember(this.current, change.peer)
      if (change.to === 'down' && member !== undefined && !isDown(member)) {
        this.adopt(markDown(this.current, change.peer, this.self))
      }
    }
    if (this.autoInit !== false) {
      const step = autoClaim(this.auto, this.current, nowMs, this.self, this.autoInit)
      this.auto = step.auto
      if (step.plan) {
        this.log('%s committed epoch %d: %o', this.self, step.state.epoch, step.plan.changes)
        this.adopt(step.state)
      }
    }
    this.heartbeat()
  }

  private heartbeat(): void {
    const { transport } = this.components
    const me = getMember(this.current, this.self)
    if (!transport.isStarted() || me === undefined) return
    this.counter++
    const heartbeat = {
      cluster: this.cluster,
      member: this.self,
      incarnation: me.incarnation,
      session: this.session,
      counter: this.counter,
      digest: this.digest(),
    }
    transport.broadcast(heartbeatTopic(this.cluster), encodeHeartbeat(heartbeat))
    this.counters.heartbeatsSent++
  }

  private onHeartbeat(data: Uint8Array, from: PeerId): void {
    if (!this.running) return
    let heartbeat: ReturnType<typeof decodeHeartbeat>
    try {
      heartbeat = decodeHeartbeat(data, this.cluster)
      if (heartbeat.member !== from) {
        throw new DecodeError(`heartbeat of ${heartbeat.member} published by ${from}`)
      }
    } catch (error) {
      this.dropped(from, error)
      return
    }
    this.counters.heartbeatsReceived++
    const last = this.lastHeartbeat.get(from)
    const fresh = last?.session !== heartbeat.session || heartbeat.counter > last.counter
    if (!fresh) return
    this.lastHeartbeat.set(from, { session: heartbeat.session, counter: heartbeat.counter })
    const known = getMember(this.current, from)
    if (known === undefined || heartbeat.incarnation >= known.incarnation) {
      this.detector.heard(from, this.components.clock.now())
    }
    if (
      !equalDigests(heartbeat.digest, this.digest()) &&
      this.exchanging.size < this.exchangesMax
    ) {
      void this.exchange(from)
    }
  }

  /** Exchanges with `fanout` connected peers drawn at random, cluster members first. */
  private antiEntropy(): void {
    const connected = [...this.components.transport.peers()].sort()
    const members = connected.filter((peer) => getMember(this.current, peer) !== undefined)
    const pool = members.length > 0 ? members : connected
    for (let i = 0; i < this.fanout && i < pool.length; i++) {
      const j = i + nextInt(this.components.random, pool.length - i)
      ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
      void this.exchange(pool[i]!)
    }
  }

  /** Sends our state to `peer` and merges its answer. Never rejects for expected failures. */
  private async exchange(peer: PeerId): Promise<void> {
    if (this.exchanging.has(peer) || !this.components.transport.isStarted()) return
    this.exchanging.add(peer)
    this.counters.exchangesStarted++
    try {
      const request = encodeStateMessage(this.cluster, this.current, this.codec)
      const response = await this.components.transport.request(
        peer,
        stateProtocol(this.cluster),
        request,
        { timeoutMs: this.exchangeTimeoutMs },
      )
      if (!this.running) return
      let theirs: ClusterState
      try {
        theirs = decodeStateMessage(response, this.cluster, this.codec)
      } catch (error) {
        this.dropped(peer, error)
        this.counters.exchangesFailed++
        return
      }
      this.adopt(merge(this.current, theirs))
    } catch (error) {
      if (!(error instanceof SolarOrbitError) || error instanceof InvariantError) throw error
      this.counters.exchangesFailed++
      this.log('%s: exchange with %s failed: %s', this.self, peer, error.message)
    } finally {
      this.exchanging.delete(peer)
    }
  }

  /** Serves a peer's exchange: merges its state and answers with ours. */
  private serve(request: Uint8Array, from: PeerId): Uint8Array {
    let theirs: ClusterState
    try {
      theirs = decodeStateMessage(request, this.cluster, this.codec)
    } catch (error) {
      this.dropped(from, error)
      throw error
    }
    this.counters.exchangesServed++
    this.adopt(merge(this.current, theirs))
    return encodeStateMessage(this.cluster, this.current, this.codec)
  }

  /**
   * Makes `next` the current state: lifts a down mark on this member, brings the detector's watch list
   * in line with the members, and emits the events of what changed.
   */
  private adopt(next: ClusterState): void {
    const me = getMember(next, this.self)
    const live =
      me?.lifecycle === 'joining' || me?.lifecycle === 'valid' || me?.lifecycle === 'leaving'
    if (me !== undefined && live && isDown(me) && this.running) {
      next = announce(next, this.memberInit, this.self)
    }
    const previous = this.current
    if (equalStates(previous, next)) return
    this.current = next
    this.watch()
    this.emit('state:changed', next)
    for (const event of stateEvents(previous, next)) {
      if (event.type === 'ring:changed') this.emit(event.type, event.detail)
      else this.emit(event.type, event.detail)
    }
  }

  /** Watches every joining or valid member but this one; forgets the others. */
  private watch(): void {
    const nowMs = this.components.clock.now()
    const connected = new Set(this.components.transport.peers())
    const watched = new Set<MemberId>()
    for (const m of this.current.members) {
      if (m.id === this.self || (m.lifecycle !== 'joining' && m.lifecycle !== 'valid')) continue
      watched.add(m.id)
      this.detector.track(m.id, nowMs, isDown(m) ? 'down' : 'up', connected.has(m.id))
    }
    for (const peer of this.detector.tracked()) if (!watched.has(peer)) this.detector.untrack(peer)
  }

  private dropped(from: PeerId, error: unknown): void {
    if (!(error instanceof DecodeError || error instanceof ForeignClusterError)) throw error
    this.counters.dropped++
    this.log.error('%s dropped a message from %s: %s', this.self, from, error.message)
    this.emit('gossip:dropped', { from, error })
  }

  /** Listens to a transport connection event for the detector; returns the remover. */
  private listen(type: 'peer:connect' | 'peer:disconnect', open: boolean): Unsubscribe {
    const listener: TypedListener<PeerId> = (event) => this.detector.connection(event.detail, open)
    this.components.transport.addEventListener(type, listener)
    return () => this.components.transport.removeEventListener(type, listener)
  }

  /** Runs `fn` after `offsetMs`, then every `periodMs`, until stopped. */
  private every(periodMs: number, offsetMs: number, fn: () => void): void {
    let cancel: Cancel = () => {}
    const run = (): void => {
      if (!this.running) return
      cancel = this.components.scheduler.schedule(periodMs, run)
      fn()
    }
    cancel = this.components.scheduler.schedule(offsetMs, run)
    this.stopping.push(() => cancel())
  }
}

/** A delay drawn uniformly from [0, periodMs), in whole ms. */
function phase(random: Random, periodMs: number): number {
  return nextInt(random, Math.max(1, Math.floor(periodMs)))
}

function positive(value: number, name: string, integer = false): number {
  if (!(value > 0 && Number.isFinite(value)) || (integer && !Number.isInteger(value))) {
    const what = integer ? 'a positive integer' : 'a positive finite number'
    throw new InvalidArgumentError(`${name} must be ${what}, got ${value}`)
  }
  return value
}
