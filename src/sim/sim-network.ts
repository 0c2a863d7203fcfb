/**
 * A simulated network: one instance per simulation, giving each simulated node a {@link Transport}.
 * Every message crosses it as an event on the {@link SimScheduler}, with a random delay (so messages
 * reorder), and may be lost, duplicated, held by a clog, or stopped by a partition, a one-way block or
 * a crashed node. All randomness comes from one {@link Random}, forked per sending node, so adding a node
 * does not shift the other nodes' streams. Modelled on TigerBeetle's packet simulator.
 */
import type { Clock, Random, Scheduler } from '../core/index.ts'
import { InvalidArgumentError, nextFloat } from '../core/index.ts'
import type { PeerId } from '../transport/index.ts'
import { LinkState } from './link-state.ts'
import type { SimScheduler } from './sim-scheduler.ts'
import type { SimFabric, SimPacket } from './sim-transport.ts'
import { SimTransport } from './sim-transport.ts'

/** Fault and delay settings applied to every link. */
export interface LinkProfile {
  /** Smallest one-way delay, in ms. Default 1. */
  minDelayMs?: number
  /** Mean one-way delay, in ms: delays are `minDelayMs` plus an exponential variate. Must be >= `minDelayMs`. Default 5. */
  meanDelayMs?: number
  /** Probability in [0, 1] that a message is lost. Default 0. */
  lossRate?: number
  /** Probability in [0, 1] that a message is delivered twice (each copy with its own delay). Default 0. */
  duplicateRate?: number
}

/** One line of the network's trace: what happened to a message, and when. */
export interface SimTraceEntry {
  /** Virtual time, in ms. */
  readonly timeMs: number
  /** `send`: put on the wire; `duplicate`: a second copy was made; `deliver`: handed to the receiver; `drop`: lost. */
  readonly event: 'send' | 'duplicate' | 'deliver' | 'drop'
  readonly from: PeerId
  readonly to: PeerId
  /** The kind of message: a request, its response or failure, or a broadcast. */
  readonly kind: 'request' | 'response' | 'failure' | 'broadcast'
  /** Its protocol (requests and replies) or topic (broadcasts). */
  readonly label: string
  /** Payload size, in bytes. */
  readonly bytes: number
  /** Why a message was dropped: `loss`, `cut`, `blocked` or `down`. */
  readonly reason?: 'loss' | 'cut' | 'blocked' | 'down'
}

/** Options of a {@link SimNetwork}. */
export interface SimNetworkInit extends LinkProfile {
  /** Drives every delay and timeout, and timestamps the trace: normally a {@link SimScheduler}. Required. */
  scheduler: Scheduler & Clock
  /** The network's random stream (pass a fork, e.g. `root.fork('network')`). Required. */
  random: Random
  /** Default `timeoutMs` of requests. Default 5000. */
  requestTimeoutMs?: number
  /** Receives every {@link SimTraceEntry}, for determinism checks and debugging. Default: none. */
  trace?: (entry: SimTraceEntry) => void
}

interface HeldMessage {
  readonly from: PeerId
  readonly to: PeerId
  readonly release: () => void
}

function pairKey(a: PeerId, b: PeerId): string {
  return JSON.stringify(a < b ? [a, b] : [b, a])
}

/** The simulated network of one simulation. */
export class SimNetwork implements SimFabric {
  readonly scheduler: Scheduler & Clock
  readonly requestTimeoutMs: number
  private readonly random: Random
  private readonly streams = new Map<PeerId, Random>()
  private readonly trace: ((entry: SimTraceEntry) => void) | undefined
  private readonly links = new LinkState()
  private readonly nodes = new Map<PeerId, SimTransport>()
  /** Open connections: pair key to a generation number that is new every time the pair connects. */
  private readonly connections = new Map<string, number>()
  private generations = 0
  private held: HeldMessage[] = []
  private profile: Required<LinkProfile>
  private requestIds = 0

  constructor(init: SimNetworkInit) {
    this.scheduler = init.scheduler
    this.random = init.random
    this.trace = init.trace
    this.requestTimeoutMs = init.requestTimeoutMs ?? 5000
    this.profile = { minDelayMs: 1, meanDelayMs: 5, lossRate: 0, duplicateRate: 0 }
    this.configure(init)
  }

  /** Changes the fault and delay settings of every link from now on (e.g. to quiet the network before a liveness check). */
  configure(profile: LinkProfile): void {
    const next = {
      minDelayMs: profile.minDelayMs ?? this.profile.minDelayMs,
      meanDelayMs: profile.meanDelayMs ?? this.profile.meanDelayMs,
      lossRate: profile.lossRate ?? this.profile.lossRate,
      duplicateRate: profile.duplicateRate ?? this.profile.duplicateRate,
    }
    if (
      !(next.minDelayMs >= 0) ||
      !(next.meanDelayMs >= next.minDelayMs) ||
      !Number.isFinite(next.meanDelayMs)
    ) {
      throw new InvalidArgumentError(
        `need 0 <= minDelayMs <= meanDelayMs < Infinity, got ${next.minDelayMs} and ${next.meanDelayMs}`,
      )
    }
    for (const rate of [next.lossRate, next.duplicateRate]) {
      if (!(rate >= 0 && rate <= 1))
        throw new InvalidArgumentError(`rates must be in [0, 1], got ${rate}`)
    }
    this.profile = next
  }

  /**
   * A new, stopped transport for node `id`. Throws `InvalidArgumentError` while `id` has a transport
   * that has not crashed.
   */
  createTransport(id: PeerId): SimTransport {
    const current = this.nodes.get(id)
    if (current !== undefined && !current.isCrashed()) {
      throw new InvalidArgumentError(`node ${id} already has a transport`)
    }
    const transport = new SimTransport(id, this)
    this.nodes.set(id, transport)
    return transport
  }

  /**
   * Crashes node `id`: its transport dies (its pending requests reject with `ClosedError`), messages in
   * flight to it are dropped, its peers see `peer:disconnect` and their requests to it fail with
   * `UnreachableError`. Throws `InvalidArgumentError` for an unknown node.
   */
  crash(id: PeerId): void {
    this.node(id).crash()
    this.updateConnections()
  }

  /**
   * A fresh, stopped transport for crashed node `id`, as after a process restart: no handlers, no
   * subscriptions. Throws `InvalidArgumentError` unless `id` crashed.
   */
  restart(id: PeerId): SimTransport {
    if (!this.node(id).isCrashed()) throw new InvalidArgumentError(`node ${id} has not crashed`)
    return this.createTransport(id)
  }

  /** The ids of every node that has a transport, sorted. */
  nodeIds(): PeerId[] {
    return [...this.nodes.keys()].sort()
  }

  /**
   * Splits the network into `groups`: nodes in different groups are cut apart both ways (connections
   * close). Nodes not listed form one more group together. Replaces the previous partition; cuts from
   * {@link cutLink} and blocks stay. Throws `InvalidArgumentError` if a node is listed twice.
   */
  partition(groups: readonly (readonly PeerId[])[]): void {
    this.links.partition(groups)
    this.updateConnections()
  }

  /** Cuts the link between `a` and `b` both ways: their connection closes. */
  cutLink(a: PeerId, b: PeerId): void {
    this.links.cut(a, b)
    this.updateConnections()
  }

  /** Restores a link cut with {@link cutLink}. */
  restoreLink(a: PeerId, b: PeerId): void {
    this.links.restore(a, b)
    this.updateConnections()
  }

  /** Silently drops messages from `from` to `to`; the connection stays up (a gray failure). */
  blockLink(from: PeerId, to: PeerId): void {
    this.links.block(from, to)
  }

  /** Removes a block set with {@link blockLink}. */
  unblockLink(from: PeerId, to: PeerId): void {
    this.links.unblock(from, to)
  }

  /**
   * Slows messages from `from` to `to`: delays are multiplied by `factor` (>= 1). With `Infinity`
   * (the default) messages are held and released, each with a fresh delay, by {@link unclog} or {@link heal}.
   */
  clog(from: PeerId, to: PeerId, factor = Infinity): void {
    this.links.clog(from, to, factor)
  }

  /** Removes a clog and releases the messages it held. */
  unclog(from: PeerId, to: PeerId): void {
    this.links.unclog(from, to)
    this.release((m) => m.from === from && m.to === to)
  }

  /** Removes every partition, cut, block and clog (crashed nodes stay crashed), releasing held messages. */
  heal(): void {
    this.links.heal()
    this.release(() => true)
    this.updateConnections()
  }

  /** Whether `a` and `b` have an open connection (both started, not cut apart). */
  isConnected(a: PeerId, b: PeerId): boolean {
    return this.connections.has(pairKey(a, b))
  }

  /** The nodes `self` has an open connection to, sorted. */
  connectedPeers(self: PeerId): PeerId[] {
    return this.nodeIds().filter((peer) => peer !== self && this.isConnected(self, peer))
  }

  /** Transport-internal: a request id unique in this network. */
  nextRequestId(): number {
    return this.requestIds++
  }

  /** Transport-internal: a transport started or stopped; opens and closes its connections. */
  lifecycleChanged(): void {
    this.updateConnections()
  }

  /**
   * Transport-internal: sends `packet` over the connection between `from` and `to`. It is dropped if that connection is
   * not open now or has closed by the time it arrives (even if the pair reconnected meanwhile, as a
   * message on a dead TCP connection would be).
   */
  transmit(from: SimTransport, to: PeerId, packet: SimPacket): void {
    const random = this.stream(from.self)
    this.record('send', from.self, to, packet)
    const connection = this.connections.get(pairKey(from.self, to))
    if (connection === undefined) {
      this.record('drop', from.self, to, packet, this.dropReason(from.self, to))
      return
    }
    if (nextFloat(random) < this.profile.lossRate) {
      this.record('drop', from.self, to, packet, 'loss')
      return
    }
    const copies = nextFloat(random) < this.profile.duplicateRate ? 2 : 1
    if (copies === 2) this.record('duplicate', from.self, to, packet)
    for (let i = 0; i < copies; i++) this.dispatch(from.self, to, packet, random, connection)
  }

  private dispatch(
    from: PeerId,
    to: PeerId,
    packet: SimPacket,
    random: Random,
    connection: number,
  ): void {
    const factor = this.links.clogFactor(from, to)
    if (factor === Infinity) {
      this.held.push({
        from,
        to,
        release: () => this.dispatch(from, to, packet, random, connection),
      })
      return
    }
    const { minDelayMs, meanDelayMs } = this.profile
    const exponential = -Math.log(1 - nextFloat(random)) * (meanDelayMs - minDelayMs)
    // Rounded to whole microseconds so a last-bit difference in Math.log between engines cannot change the order.
    const delayMs = Math.round((minDelayMs + exponential) * factor * 1000) / 1000
    this.scheduler.schedule(delayMs, () => this.arrive(from, to, packet, connection))
  }

  private arrive(from: PeerId, to: PeerId, packet: SimPacket, connection: number): void {
    // An open connection of this generation means both ends are the started transports it joined.
    const receiver = this.nodes.get(to)
    if (this.connections.get(pairKey(from, to)) !== connection || receiver === undefined) {
      this.record('drop', from, to, packet, this.dropReason(from, to))
    } else if (this.links.isBlocked(from, to)) {
      this.record('drop', from, to, packet, 'blocked')
    } else {
      this.record('deliver', from, to, packet)
      receiver.receive(packet, from)
    }
  }

  /** Why a message between `from` and `to` has no connection to travel on. */
  private dropReason(from: PeerId, to: PeerId): 'cut' | 'down' {
    const up = (id: PeerId): boolean => this.nodes.get(id)?.isStarted() === true
    return up(from) && up(to) && this.links.isCut(from, to) ? 'cut' : 'down'
  }

  private release(which: (m: HeldMessage) => boolean): void {
    const released = this.held.filter(which)
    this.held = this.held.filter((m) => !which(m))
    for (const m of released) m.release()
  }

  /** Recomputes which pairs are connected and tells both ends of each change. */
  private updateConnections(): void {
    const ids = this.nodeIds()
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const a = this.nodes.get(ids[i]!)!
        const b = this.nodes.get(ids[j]!)!
        const key = pairKey(a.self, b.self)
        const up = a.isStarted() && b.isStarted() && !this.links.isCut(a.self, b.self)
        if (up === this.connections.has(key)) continue
        if (up) {
          this.connections.set(key, this.generations++)
          a.emit('peer:connect', b.self)
          b.emit('peer:connect', a.self)
        } else {
          this.connections.delete(key)
          for (const [end, peer] of [
            [a, b],
            [b, a],
          ] as const) {
            end.connectionClosed(peer.self)
            if (end.isStarted()) end.emit('peer:disconnect', peer.self)
          }
        }
      }
    }
  }

  private node(id: PeerId): SimTransport {
    const transport = this.nodes.get(id)
    if (transport === undefined) throw new InvalidArgumentError(`unknown node ${id}`)
    return transport
  }

  private stream(id: PeerId): Random {
    let random = this.streams.get(id)
    if (random === undefined) {
      random = this.random.fork(`node/${id}`)
      this.streams.set(id, random)
    }
    return random
  }

  private record(
    event: SimTraceEntry['event'],
    from: PeerId,
    to: PeerId,
    packet: SimPacket,
    reason?: SimTraceEntry['reason'],
  ): void {
    if (this.trace === undefined) return
    const label =
      packet.kind === 'broadcast'
        ? packet.topic
        : packet.kind === 'request'
          ? packet.protocol
          : `#${packet.id}`
    const bytes = packet.kind === 'failure' ? 0 : packet.body.length
    const entry: SimTraceEntry = {
      timeMs: this.scheduler.now(),
      event,
      from,
      to,
      kind: packet.kind,
      label,
      bytes,
    }
    this.trace(reason === undefined ? entry : { ...entry, reason })
  }
}
