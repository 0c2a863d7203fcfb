/**
 * Reaching a member this node has no direct connection to: one hop of forwarding through a member
 * that is connected to it.
 *
 * Why forwarding and not a relayed (`/p2p-circuit`) connection: a browser peer holds a reservation at
 * a Node relay and is directly connected to it over WebSockets, but a circuit-relay v2 connection is
 * *limited* (libp2p's defaults: 2 minutes and 128 KiB per relayed connection), libp2p refuses to open
 * protocol streams on limited connections unless every handler opts in, and a Node peer would also
 * need the circuit-relay and WebRTC transports just to dial one. Quorum traffic (1 KB values at
 * thousands of requests a second) and handoff batches exceed those limits within seconds, so a relayed
 * hop could carry signalling but not data. Forwarding instead sends the request, wrapped, over the
 * long-lived stream the node already keeps to the intermediary, which unwraps it and sends it on over
 * the stream *it* keeps to the target: no new connection, no limits, one extra hop of latency, and
 * only for the (few) member pairs that lack a direct connection.
 *
 * Choosing the hop: a member that advertises a `/p2p-circuit` address names its relay in it
 * (`…/p2p/<relay>/p2p-circuit/…`), which is directly connected to it; that relay is tried first. Then
 * the hop that worked last for the target, then the other connected members in id order (an
 * intermediary that is not connected to the target answers `ERR_UNREACHABLE` at once).
 *
 * Safety: the intermediary forwards only for senders that are members of the cluster state, only to
 * targets it is directly connected to (never a second hop, so no loops), and only protocols of its own
 * cluster, and the target authorizes the intermediary (a member) as usual. Forward messages are a
 * versioned CBOR array `[1, target, protocol, payload]`, decoded strictly.
 */
import type { Cancel } from '../core/index.ts'
import {
  DecodeError,
  decodeCbor,
  encodeCbor,
  readBytes,
  readCount,
  readText,
  readTuple,
  SolarOrbitError,
} from '../core/index.ts'
import { isDown, type Member } from '../membership/index.ts'
import type {
  PeerId,
  ProtocolHandler,
  RequestOptions,
  TopicListener,
  Transport,
  TransportEvents,
  Unsubscribe,
} from '../transport/index.ts'
import {
  RemoteError,
  TypedEventEmitter,
  UnreachableError,
  UnsupportedProtocolError,
} from '../transport/index.ts'

/** The forwarding protocol of `cluster`. */
export function forwardProtocol(cluster: string): string {
  return `/solar-orbit/${cluster}/forward/1.0.0`
}

/** The code a hop answers when the target does not serve the forwarded protocol. */
const TARGET_UNSUPPORTED = 'ERR_FORWARD_TARGET_UNSUPPORTED_PROTOCOL'

/** Format version of forward messages. */
export const FORWARD_FORMAT = 1

/** A transport with the optional parts of `Libp2pTransport` that a node uses when present. */
export interface DialableTransport extends Transport {
  /** Opens a connection to `address` (a multiaddr ending in `/p2p/<id>`) and resolves with the peer's id. */
  connect?(address: string): Promise<PeerId>
  /** This node's own addresses, to announce in the cluster state. */
  multiaddrs?(): string[]
}

/** Options of a {@link RoutedTransport}. */
export interface RoutedTransportInit {
  /** The cluster name: forwards are served on {@link forwardProtocol} and only for its protocols. */
  readonly cluster: string
  /** The current members (from the cluster state): candidates for hops and route hints. */
  readonly members: () => readonly Member[]
  /** Whether `peer` may have requests forwarded by this node (a member of the cluster state). */
  readonly authorize: (peer: PeerId) => boolean
  /** Largest forward message accepted, in bytes. Default 4 MiB + 4 KiB. */
  readonly messageBytesMax?: number
  /** Hops tried for one request when no hint names one. Default 3. */
  readonly hopsMax?: number
}

/**
 * A {@link Transport} over another that reaches non-adjacent members through one intermediary; see
 * the module comment. Everything else (handlers, topics, events, lifecycle) is the inner transport's.
 */
export class RoutedTransport extends TypedEventEmitter<TransportEvents> implements Transport {
  readonly self: PeerId
  readonly inner: DialableTransport
  readonly #init: RoutedTransportInit
  readonly #protocol: string
  readonly #prefix: string
  readonly #lastHop = new Map<PeerId, PeerId>()
  /**
   * The directly connected peers, kept from the inner transport's events once read (asking libp2p
   * renders every peer id as text, which showed in request profiles: preflists ask for each replica).
   */
  #direct: Set<PeerId> | undefined
  readonly #unlisten: Cancel
  /** Requests forwarded for others, for tests and operators. */
  forwarded = 0

  constructor(inner: DialableTransport, init: RoutedTransportInit) {
    super()
    this.inner = inner
    this.self = inner.self
    this.#init = init
    this.#protocol = forwardProtocol(init.cluster)
    this.#prefix = `/solar-orbit/${init.cluster}/`
    const onConnect = (event: CustomEvent<PeerId>): void => {
      this.#direct?.add(event.detail)
      this.emit('peer:connect', event.detail)
    }
    const onDisconnect = (event: CustomEvent<PeerId>): void => {
      this.#direct?.delete(event.detail)
      this.emit('peer:disconnect', event.detail)
    }
    inner.addEventListener('peer:connect', onConnect)
    inner.addEventListener('peer:disconnect', onDisconnect)
    this.#unlisten = () => {
      inner.removeEventListener('peer:connect', onConnect)
      inner.removeEventListener('peer:disconnect', onDisconnect)
    }
    inner.handle(this.#protocol, (request, from) => this.#serve(request, from))
  }

  async start(): Promise<void> {
    await this.inner.start()
    this.#direct = undefined
  }

  async stop(): Promise<void> {
    await this.inner.stop()
    this.#direct = undefined
  }

  /** The directly connected peers (a live set: do not modify). */
  #connected(): ReadonlySet<PeerId> {
    if (!this.inner.isStarted()) return new Set()
    this.#direct ??= new Set(this.inner.peers())
    return this.#direct
  }

  /** Stops serving forwards and listening to the inner transport (the inner transport stays as it is). */
  detach(): void {
    this.inner.unhandle(this.#protocol)
    this.#unlisten()
  }

  isStarted(): boolean {
    return this.inner.isStarted()
  }

  /**
   * Directly connected peers, plus the members reachable through a connected relay they advertise
   * (the relay holds a direct connection to them for as long as their reservation lasts). A hop that
   * merely worked once does not count: it may have lost the target since, and counting it would keep
   * a dead member "up" for preflists and handoffs.
   */
  peers(): PeerId[] {
    const connected = this.#connected()
    const direct = [...connected]
    const routed: PeerId[] = []
    for (const member of this.#init.members()) {
      if (member.id === this.self || connected.has(member.id)) continue
      if (member.lifecycle === 'removed' || isDown(member)) continue
      if (this.#hintedHop(member, connected) !== undefined) routed.push(member.id)
    }
    return [...direct, ...routed]
  }

  /** Whether `peer` is directly connected (not through a hop). */
  isDirect(peer: PeerId): boolean {
    return this.#connected().has(peer)
  }

  /** Whether `peer` is this node, directly connected, or reachable through the relay it advertises. */
  reaches(peer: PeerId): boolean {
    if (peer === this.self || this.isDirect(peer)) return true
    const member = this.#init.members().find((m) => m.id === peer)
    return (
      member !== undefined &&
      member.lifecycle !== 'removed' &&
      !isDown(member) &&
      this.#hintedHop(member, this.#connected()) !== undefined
    )
  }

  async request(
    peer: PeerId,
    protocol: string,
    request: Uint8Array,
    options: RequestOptions = {},
  ): Promise<Uint8Array> {
    if (peer === this.self || !this.inner.isStarted()) {
      return this.inner.request(peer, protocol, request, options)
    }
    const connected = this.#connected()
    if (connected.has(peer)) {
      if (this.#lastHop.size > 0) this.#lastHop.delete(peer)
      return this.inner.request(peer, protocol, request, options)
    }
    const hops = this.#hops(peer, connected)
    if (hops.length === 0) throw new UnreachableError(peer, 'no direct connection and no hop')
    const message = encodeForward(peer, protocol, request)
    let failure: unknown = new UnreachableError(peer)
    for (const hop of hops) {
      try {
        const response = await this.inner.request(hop, this.#protocol, message, options)
        this.#lastHop.set(peer, hop)
        return response
      } catch (error) {
        failure = error
        const unreachable =
          error instanceof UnreachableError ||
          (error instanceof RemoteError && error.remoteCode === UnreachableError.code)
        if (!unreachable) break
        if (this.#lastHop.get(peer) === hop) this.#lastHop.delete(peer)
      }
    }
    if (failure instanceof RemoteError && failure.remoteCode === TARGET_UNSUPPORTED) {
      throw new UnsupportedProtocolError(peer, protocol)
    }
    if (failure instanceof RemoteError && failure.remoteCode !== RemoteError.internalCode) {
      // The target's own failure, passed on by the hop: report it as the target's.
      throw new RemoteError(peer, failure.remoteCode, failure.message)
    }
    throw failure
  }

  handle(protocol: string, handler: ProtocolHandler): void {
    this.inner.handle(protocol, handler)
  }

  unhandle(protocol: string): void {
    this.inner.unhandle(protocol)
  }

  broadcast(topic: string, data: Uint8Array): void {
    this.inner.broadcast(topic, data)
  }

  subscribe(topic: string, listener: TopicListener): Unsubscribe {
    return this.inner.subscribe(topic, listener)
  }

  /** Intermediaries to try for `peer`, best first: the advertised relay, the last good hop, other members. */
  #hops(peer: PeerId, connected: ReadonlySet<PeerId>): PeerId[] {
    const members = this.#init.members()
    const target = members.find((m) => m.id === peer)
    const hops: PeerId[] = []
    const add = (hop: PeerId | undefined): void => {
      if (hop !== undefined && hop !== peer && connected.has(hop) && !hops.includes(hop)) {
        hops.push(hop)
      }
    }
    if (target !== undefined) add(this.#hintedHop(target, connected))
    add(this.#lastHop.get(peer))
    const hopsMax = this.#init.hopsMax ?? 3
    for (const m of members) {
      if (hops.length >= hopsMax) break
      if (m.lifecycle !== 'removed') add(m.id)
    }
    return hops
  }

  /** The relay a member advertises (`…/p2p/<relay>/p2p-circuit…`), when this node is connected to it. */
  #hintedHop(member: Member, connected: ReadonlySet<PeerId>): PeerId | undefined {
    for (const address of member.addresses) {
      const relay = relayOf(address)
      if (relay !== undefined && connected.has(relay)) return relay
    }
    return undefined
  }

  /** Serves a forward: checks the sender, the target and the protocol, then sends it on. */
  async #serve(request: Uint8Array, from: PeerId): Promise<Uint8Array> {
    if (!this.#init.authorize(from)) throw new ForwardRefusedError(`${from} is not a member`)
    const { target, protocol, payload } = decodeForward(
      request,
      this.#init.messageBytesMax ?? 4 * 1024 * 1024 + 4096,
    )
    if (!protocol.startsWith(this.#prefix) || protocol === this.#protocol) {
      throw new ForwardRefusedError(`protocol ${protocol} is not forwarded`)
    }
    if (target === this.self) throw new ForwardRefusedError('a forward to the forwarding node')
    if (!this.isDirect(target)) throw new UnreachableError(target)
    this.forwarded++
    try {
      return await this.inner.request(target, protocol, payload)
    } catch (error) {
      // Keep the target's code (overload, not a member, ...) rather than our wrapper's; a protocol
      // the target lacks gets its own code, or it would read as this node lacking the forward protocol.
      if (error instanceof UnsupportedProtocolError) {
        throw new SolarOrbitError(TARGET_UNSUPPORTED, error.message)
      }
      if (error instanceof RemoteError) {
        throw new SolarOrbitError(error.remoteCode, error.message)
      }
      throw error
    }
  }
}

/** A forward the intermediary refuses: the sender is not a member, or the request is not forwardable. */
export class ForwardRefusedError extends SolarOrbitError {
  static readonly code = 'ERR_FORWARD_REFUSED'
  constructor(message: string) {
    super(ForwardRefusedError.code, `forward refused: ${message}`)
  }
}

/** The relay peer id a `/p2p-circuit` multiaddr names, or undefined. */
export function relayOf(address: string): PeerId | undefined {
  const at = address.indexOf('/p2p-circuit')
  if (at < 0) return undefined
  const match = /\/p2p\/([^/]+)$/.exec(address.slice(0, at))
  return match?.[1]
}

function encodeForward(target: PeerId, protocol: string, payload: Uint8Array): Uint8Array {
  return encodeCbor([FORWARD_FORMAT, target, protocol, payload])
}

function decodeForward(
  bytes: Uint8Array,
  bytesMax: number,
): { target: PeerId; protocol: string; payload: Uint8Array } {
  const fields = readTuple(decodeCbor(bytes, bytesMax, 'forward'), 4, 'forward')
  const version = readCount(fields[0], 'forward version')
  if (version !== FORWARD_FORMAT) throw new DecodeError(`unknown forward version ${version}`)
  return {
    target: readText(fields[1], 'forward target'),
    protocol: readText(fields[2], 'forward protocol'),
    payload: readBytes(fields[3], 'forward payload'),
  }
}
