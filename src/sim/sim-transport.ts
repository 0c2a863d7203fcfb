/**
 * One simulated node's {@link Transport}, created by `SimNetwork`. It keeps the node's handlers,
 * subscriptions and pending requests; the network decides what reaches whom and when.
 */
import type { Scheduler } from '../core/index.ts'
import { ClosedError, InvalidArgumentError } from '../core/index.ts'
import type {
  PeerId,
  ProtocolHandler,
  RemoteFailure,
  RequestOptions,
  TopicListener,
  Transport,
  TransportEvents,
  Unsubscribe,
} from '../transport/index.ts'
import {
  fromRemoteFailure,
  PendingRequest,
  TypedEventEmitter,
  toRemoteFailure,
  UnreachableError,
  UnsupportedProtocolError,
} from '../transport/index.ts'

/** What travels between simulated transports. */
export type SimPacket =
  | { kind: 'request'; id: number; protocol: string; body: Uint8Array; origin: SimTransport }
  | { kind: 'response'; id: number; body: Uint8Array; origin: SimTransport }
  | { kind: 'failure'; id: number; failure: RemoteFailure; origin: SimTransport }
  | { kind: 'broadcast'; topic: string; body: Uint8Array }

/** What a {@link SimTransport} needs from its network. */
export interface SimFabric {
  readonly scheduler: Scheduler
  readonly requestTimeoutMs: number
  /** Whether `a` and `b` are both started and not cut apart. */
  isConnected(a: PeerId, b: PeerId): boolean
  /** The peers `self` is connected to, sorted. */
  connectedPeers(self: PeerId): PeerId[]
  /** Puts `packet` from `from` to `to` on the wire. */
  transmit(from: SimTransport, to: PeerId, packet: SimPacket): void
  /** A request id unique in the network. */
  nextRequestId(): number
  /** Called after a transport started or stopped. */
  lifecycleChanged(): void
}

interface OutstandingRequest {
  readonly peer: PeerId
  readonly protocol: string
  readonly pending: PendingRequest<Uint8Array>
}

/** A simulated node's transport. Obtain one from `SimNetwork.createTransport`. */
export class SimTransport extends TypedEventEmitter<TransportEvents> implements Transport {
  readonly self: PeerId
  private readonly fabric: SimFabric
  private started = false
  private crashed = false
  private readonly handlers = new Map<string, ProtocolHandler>()
  private readonly listeners = new Map<string, Set<TopicListener>>()
  private readonly outstanding = new Map<number, OutstandingRequest>()

  /** Used by `SimNetwork`; not for direct construction. */
  constructor(self: PeerId, fabric: SimFabric) {
    super()
    this.self = self
    this.fabric = fabric
  }

  async start(): Promise<void> {
    if (this.crashed) throw new ClosedError(`transport of crashed node ${this.self}`)
    if (this.started) return
    this.started = true
    this.fabric.lifecycleChanged()
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.failOutstanding(() => new ClosedError(`transport of ${this.self}`))
    this.fabric.lifecycleChanged()
  }

  isStarted(): boolean {
    return this.started
  }

  /** Whether the network crashed this node; a crashed transport never starts again. */
  isCrashed(): boolean {
    return this.crashed
  }

  peers(): PeerId[] {
    return this.started ? this.fabric.connectedPeers(this.self) : []
  }

  async request(
    peer: PeerId,
    protocol: string,
    request: Uint8Array,
    options: RequestOptions = {},
  ): Promise<Uint8Array> {
    if (!this.started) throw new ClosedError(`transport of ${this.self}`)
    const id = this.fabric.nextRequestId()
    const pending = new PendingRequest<Uint8Array>({
      scheduler: this.fabric.scheduler,
      peer,
      protocol,
      timeoutMs: options.timeoutMs ?? this.fabric.requestTimeoutMs,
      signal: options.signal,
      onSettled: () => this.outstanding.delete(id),
    })
    if (pending.settled) return pending.promise
    this.outstanding.set(id, { peer, protocol, pending })
    const packet: SimPacket = { kind: 'request', id, protocol, body: request.slice(), origin: this }
    if (peer === this.self) {
      this.fabric.scheduler.schedule(0, () => {
        if (this.started) this.receive(packet, this.self)
      })
    } else if (!this.fabric.isConnected(this.self, peer)) {
      pending.reject(new UnreachableError(peer))
    } else {
      this.fabric.transmit(this, peer, packet)
    }
    return pending.promise
  }

  handle(protocol: string, handler: ProtocolHandler): void {
    if (this.handlers.has(protocol)) {
      throw new InvalidArgumentError(`${protocol} already has a handler on ${this.self}`)
    }
    this.handlers.set(protocol, handler)
  }

  unhandle(protocol: string): void {
    this.handlers.delete(protocol)
  }

  broadcast(topic: string, data: Uint8Array): void {
    if (!this.started) throw new ClosedError(`transport of ${this.self}`)
    for (const peer of this.fabric.connectedPeers(this.self)) {
      this.fabric.transmit(this, peer, { kind: 'broadcast', topic, body: data.slice() })
    }
  }

  subscribe(topic: string, listener: TopicListener): Unsubscribe {
    let set = this.listeners.get(topic)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(topic, set)
    }
    const wrapped: TopicListener = (data, from) => listener(data, from)
    set.add(wrapped)
    return () => {
      set.delete(wrapped)
      if (set.size === 0 && this.listeners.get(topic) === set) this.listeners.delete(topic)
    }
  }

  /**
   * Network-internal: delivers `packet` from `from`, on arrival, while this transport is started.
   * Listener exceptions propagate: in a simulation they fail the seed.
   */
  receive(packet: SimPacket, from: PeerId): void {
    switch (packet.kind) {
      case 'request':
        this.serve(packet, from)
        return
      case 'response':
        this.outstanding.get(packet.id)?.pending.resolve(packet.body.slice())
        return
      case 'failure': {
        const entry = this.outstanding.get(packet.id)
        entry?.pending.reject(fromRemoteFailure(entry.peer, entry.protocol, packet.failure))
        return
      }
      case 'broadcast':
        for (const listener of [...(this.listeners.get(packet.topic) ?? [])]) {
          listener(packet.body.slice(), from)
        }
        return
    }
  }

  /** Network-internal: fails the requests waiting on `peer` with `UnreachableError` when their connection closes. */
  connectionClosed(peer: PeerId): void {
    for (const entry of [...this.outstanding.values()]) {
      if (entry.peer === peer) entry.pending.reject(new UnreachableError(peer, 'connection closed'))
    }
  }

  /**
   * Network-internal (use `SimNetwork.crash`): kills this transport for good; pending requests reject
   * with `ClosedError` and nothing is delivered to it again.
   */
  crash(): void {
    this.crashed = true
    this.started = false
    this.failOutstanding(() => new ClosedError(`transport of crashed node ${this.self}`))
  }

  private serve(packet: Extract<SimPacket, { kind: 'request' }>, from: PeerId): void {
    const handler = this.handlers.get(packet.protocol)
    const reply = (response: SimPacket): void => {
      if (!this.started) return
      if (from === this.self) packet.origin.receive(response, this.self)
      else this.fabric.transmit(this, from, response)
    }
    if (handler === undefined) {
      reply({
        kind: 'failure',
        id: packet.id,
        failure: toRemoteFailure(new UnsupportedProtocolError(this.self, packet.protocol)),
        origin: packet.origin,
      })
      return
    }
    Promise.resolve()
      .then(() => handler(packet.body.slice(), from))
      .then(
        (body) =>
          reply({ kind: 'response', id: packet.id, body: body.slice(), origin: packet.origin }),
        (error: unknown) =>
          reply({
            kind: 'failure',
            id: packet.id,
            failure: toRemoteFailure(error),
            origin: packet.origin,
          }),
      )
  }

  private failOutstanding(error: () => Error): void {
    for (const entry of [...this.outstanding.values()]) entry.pending.reject(error())
  }
}
