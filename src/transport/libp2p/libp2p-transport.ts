/**
 * The libp2p adapter of the Transport port. Requests travel on one long-lived stream per peer and
 * protocol (the protocol string is the libp2p protocol id, `/solar-orbit/<cluster>/<name>/1.0.0`), each
 * frame a length-prefixed envelope with a request id; the stream is negotiated on every direct
 * connection to the peer at once (`stream-race.ts`). Broadcasts ride gossipsub; `peer:connect` and
 * `peer:disconnect` are libp2p's own connection events.
 */
import type { Connection, PeerId as Libp2pPeerId, Stream } from '@libp2p/interface'
import { UnsupportedProtocolError as Libp2pUnsupportedProtocolError } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Scheduler } from '../../core/index.ts'
import { ClosedError, InvalidArgumentError, TooLargeError } from '../../core/index.ts'
import type {
  PeerId,
  ProtocolHandler,
  RequestOptions,
  TopicListener,
  Transport,
  TransportEvents,
  Unsubscribe,
} from '../index.ts'
import {
  fromRemoteFailure,
  PendingRequest,
  TypedEventEmitter,
  toRemoteFailure,
  UnreachableError,
  UnsupportedProtocolError,
} from '../index.ts'
import { RequestChannel } from './request-channel.ts'
import { type AuthorizeHook, serveStream } from './serve-stream.ts'
import type { SolarOrbitLibp2p } from './services.ts'
import { StreamRace } from './stream-race.ts'
import { TopicHub } from './topic-hub.ts'

const log = defaultLogger().forComponent('solar-orbit:transport')

/** What a {@link Libp2pTransport} runs on. */
export interface Libp2pTransportComponents {
  /** The node, created stopped (see `createLibp2pNode`); the transport starts and stops it. */
  node: SolarOrbitLibp2p
  /** Arms request deadlines. */
  scheduler: Scheduler
}

/** Options of a {@link Libp2pTransport}. */
export interface Libp2pTransportInit {
  /** Deadline of a request without `timeoutMs`, in ms. Default: `10000`. */
  requestTimeoutMs?: number
  /** Largest request or response payload, in bytes; larger frames are refused unread. Default: 4 MiB. */
  maxMessageBytes?: number
  /**
   * Streams per connection and protocol, each way. One long-lived stream per peer and protocol is
   * used; the slack covers a stream being replaced. Default: `4` (libp2p's defaults are 32 in, 64 out).
   */
  maxStreamsPerProtocol?: number
  /** Requests of one inbound stream handled at once before reading pauses. Default: `256`. */
  maxConcurrentRequests?: number
  /** Deadline for opening a stream (connection and protocol negotiation), in ms. Default: `10000`. */
  streamOpenTimeoutMs?: number
  /**
   * Asked before each incoming request is handled; refusing answers `ERR_UNAUTHORIZED` (the requester
   * rejects with a `RemoteError` of that `remoteCode`). Membership gating plugs in here. Default: allow all.
   */
  authorize?: AuthorizeHook
}

/** A node's {@link Transport} over libp2p. */
export class Libp2pTransport extends TypedEventEmitter<TransportEvents> implements Transport {
  readonly self: PeerId
  /** The libp2p node underneath, for what the port does not cover (hang-ups, raw streams in tests). */
  readonly node: SolarOrbitLibp2p
  private readonly scheduler: Scheduler
  private readonly requestTimeoutMs: number
  private readonly maxMessageBytes: number
  private readonly maxStreams: number
  private readonly maxConcurrentRequests: number
  private readonly streamOpenTimeoutMs: number
  private readonly authorize: AuthorizeHook
  private readonly handlers = new Map<string, ProtocolHandler>()
  /** Per `peer protocol`: the channel, or the promise of one while its stream opens. */
  private readonly channels = new Map<string, RequestChannel | Promise<RequestChannel>>()
  private readonly inflight = new Set<PendingRequest<Uint8Array>>()
  /** The streams being negotiated, by peer, so that a connection opening meanwhile can join. */
  private readonly races = new Set<{ readonly peer: PeerId; readonly race: StreamRace }>()
  private readonly topics: TopicHub
  private started = false

  constructor(components: Libp2pTransportComponents, init: Libp2pTransportInit = {}) {
    super()
    this.node = components.node
    this.scheduler = components.scheduler
    this.self = this.node.peerId.toString()
    this.requestTimeoutMs = init.requestTimeoutMs ?? 10_000
    this.maxMessageBytes = init.maxMessageBytes ?? 4 * 1024 * 1024
    this.maxStreams = init.maxStreamsPerProtocol ?? 4
    this.maxConcurrentRequests = init.maxConcurrentRequests ?? 256
    this.streamOpenTimeoutMs = init.streamOpenTimeoutMs ?? 10_000
    this.authorize = init.authorize ?? (() => true)
    this.topics = new TopicHub(this.node.services.pubsub, log)
  }

  async start(): Promise<void> {
    if (this.started) return
    await this.node.start()
    this.node.addEventListener('peer:connect', this.onPeerConnect)
    this.node.addEventListener('peer:disconnect', this.onPeerDisconnect)
    this.node.addEventListener('connection:open', this.onConnectionOpen)
    this.topics.attach()
    this.started = true
    log('started %s on %a', this.self, this.node.getMultiaddrs())
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    const closed = new ClosedError(`transport of ${this.self}`)
    for (const pending of [...this.inflight]) pending.reject(closed)
    for (const channel of this.channels.values()) {
      Promise.resolve(channel).then(
        (c) => c.close(closed),
        () => {},
      )
    }
    this.channels.clear()
    this.topics.detach()
    this.node.removeEventListener('peer:connect', this.onPeerConnect)
    this.node.removeEventListener('peer:disconnect', this.onPeerDisconnect)
    this.node.removeEventListener('connection:open', this.onConnectionOpen)
    await this.node.stop()
    log('stopped %s', this.self)
  }

  isStarted(): boolean {
    return this.started
  }

  /**
   * Peers with an open, unlimited connection: the ones requests can reach. A peer reached only through
   * a relay's limited connection is left out, since libp2p refuses protocol streams on those.
   */
  peers(): PeerId[] {
    if (!this.started) return []
    const reachable = new Set<PeerId>()
    for (const connection of this.node.getConnections()) {
      if (connection.status === 'open' && connection.limits === undefined) {
        reachable.add(connection.remotePeer.toString())
      }
    }
    return [...reachable]
  }

  /** The addresses this node listens on, with its peer id, for others to {@link connect} to. */
  multiaddrs(): string[] {
    return this.node.getMultiaddrs().map((addr) => addr.toString())
  }

  /**
   * Opens a connection to the peer at `address` (a multiaddr ending in `/p2p/<peer id>`) and resolves
   * with its id. Throws `ClosedError` when stopped and `UnreachableError` when the dial fails.
   */
  async connect(address: string): Promise<PeerId> {
    if (!this.started) throw new ClosedError(`transport of ${this.self}`)
    try {
      const connection = await this.node.dial(multiaddr(address), {
        signal: AbortSignal.timeout(this.streamOpenTimeoutMs),
      })
      return connection.remotePeer.toString()
    } catch (cause) {
      throw new UnreachableError(address, `dial failed: ${describe(cause)}`)
    }
  }

  request(
    peer: PeerId,
    protocol: string,
    request: Uint8Array,
    options: RequestOptions = {},
  ): Promise<Uint8Array> {
    if (!this.started) return Promise.reject(new ClosedError(`transport of ${this.self}`))
    const pending = new PendingRequest<Uint8Array>({
      scheduler: this.scheduler,
      peer,
      protocol,
      timeoutMs: options.timeoutMs ?? this.requestTimeoutMs,
      signal: options.signal,
    })
    if (pending.settled) return pending.promise
    this.inflight.add(pending)
    const forget = (): void => {
      this.inflight.delete(pending)
    }
    pending.promise.then(forget, forget)
    if (request.byteLength > this.maxMessageBytes) {
      pending.reject(new TooLargeError('request', request.byteLength, this.maxMessageBytes))
    } else if (peer === this.self) {
      this.serveLocally(protocol, request.slice(), pending)
    } else {
      this.sendRemote(peer, protocol, request, pending)
    }
    return pending.promise
  }

  handle(protocol: string, handler: ProtocolHandler): void {
    if (this.handlers.has(protocol)) {
      throw new InvalidArgumentError(`protocol ${protocol} already has a handler`)
    }
    this.handlers.set(protocol, handler)
    // libp2p's registrar takes handlers whether the node runs or not, and keeps them across restarts.
    this.node
      .handle(protocol, (stream, connection) => this.onStream(stream, connection), {
        maxInboundStreams: this.maxStreams,
        maxOutboundStreams: this.maxStreams,
        force: true,
      })
      .catch((error: unknown) => {
        log.error('registering %s failed - %e', protocol, error)
      })
  }

  unhandle(protocol: string): void {
    if (!this.handlers.delete(protocol)) return
    // Open streams answer ERR_UNSUPPORTED_PROTOCOL from now on (handlers are looked up per request);
    // new streams fail negotiation once libp2p forgets the protocol.
    this.node.unhandle(protocol).catch((error: unknown) => {
      log.error('unregistering %s failed - %e', protocol, error)
    })
  }

  broadcast(topic: string, data: Uint8Array): void {
    if (!this.started) throw new ClosedError(`transport of ${this.self}`)
    this.topics.publish(topic, data)
  }

  subscribe(topic: string, listener: TopicListener): Unsubscribe {
    return this.topics.subscribe(topic, listener)
  }

  private onStream(stream: Stream, connection: Connection): void {
    serveStream(stream, {
      peer: connection.remotePeer.toString(),
      protocol: stream.protocol,
      self: this.self,
      handlerFor: (protocol) => this.handlers.get(protocol),
      authorize: this.authorize,
      maxMessageBytes: this.maxMessageBytes,
      maxConcurrentRequests: this.maxConcurrentRequests,
      log,
    })
  }

  private serveLocally(
    protocol: string,
    request: Uint8Array,
    pending: PendingRequest<Uint8Array>,
  ): void {
    const handler = this.handlers.get(protocol)
    if (handler === undefined) {
      pending.reject(new UnsupportedProtocolError(this.self, protocol))
      return
    }
    Promise.resolve()
      .then(() => handler(request, this.self))
      .then(
        (response) => pending.resolve(response),
        (error: unknown) =>
          pending.reject(fromRemoteFailure(this.self, protocol, toRemoteFailure(error))),
      )
  }

  /** Sends on the open channel to `peer` at once (the common case), or once a stream is open. */
  private sendRemote(
    peer: PeerId,
    protocol: string,
    request: Uint8Array,
    pending: PendingRequest<Uint8Array>,
  ): void {
    const ready = this.channels.get(channelKey(peer, protocol))
    if (ready instanceof RequestChannel && ready.isOpen()) {
      ready.send(request, pending)
      return
    }
    this.channelFor(peer, protocol).then(
      (channel) => channel.send(request, pending),
      (error: unknown) => pending.reject(error),
    )
  }

  /** The open channel to `peer` on `protocol`, opening a stream if there is none. */
  private async channelFor(peer: PeerId, protocol: string): Promise<RequestChannel> {
    const key = channelKey(peer, protocol)
    const existing = this.channels.get(key)
    if (existing !== undefined && (!(existing instanceof RequestChannel) || existing.isOpen())) {
      return existing
    }
    const forget = (entry: RequestChannel | Promise<RequestChannel>): void => {
      if (this.channels.get(key) === entry) this.channels.delete(key)
    }
    const opening = this.openChannel(peer, protocol, () => forget(channel))
    this.channels.set(key, opening)
    let channel: RequestChannel
    try {
      channel = await opening
    } catch (error) {
      forget(opening)
      throw error
    }
    if (this.channels.get(key) === opening) this.channels.set(key, channel)
    return channel
  }

  private async openChannel(
    peer: PeerId,
    protocol: string,
    onClosed: () => void,
  ): Promise<RequestChannel> {
    const stream = await this.openStream(peer, protocol)
    return new RequestChannel(stream, {
      peer,
      protocol,
      maxMessageBytes: this.maxMessageBytes,
      onClosed,
      log,
    })
  }

  /**
   * A stream for `protocol` to `peer`, negotiated at once on each of its unlimited connections and on
   * any that opens meanwhile (see `stream-race.ts`); on a relayed hop only when there is nothing else.
   */
  private async openStream(peer: PeerId, protocol: string): Promise<Stream> {
    const connections = this.connectionsTo(peer)
    if (connections.length === 0) throw new UnreachableError(peer)
    const race = new StreamRace(
      (connection, signal) =>
        connection.newStream(protocol, { maxOutboundStreams: this.maxStreams, signal }),
      this.streamOpenTimeoutMs,
      connections,
    )
    const entry = { peer, race }
    this.races.add(entry)
    try {
      return await race.stream
    } catch (error) {
      const causes = error instanceof AggregateError ? error.errors : [error]
      if (causes.some((cause) => cause instanceof Libp2pUnsupportedProtocolError)) {
        throw new UnsupportedProtocolError(peer, protocol)
      }
      log('opening %s to %s failed - %e', protocol, peer, causes[0])
      throw new UnreachableError(peer, `cannot open a stream: ${describe(causes[0])}`)
    } finally {
      this.races.delete(entry)
    }
  }

  /** The open connections to `peer` that take protocol streams: its unlimited ones, else a relayed hop. */
  private connectionsTo(peer: PeerId): Connection[] {
    let id: Libp2pPeerId
    try {
      id = peerIdFromString(peer)
    } catch {
      return []
    }
    const open = this.node.getConnections(id).filter((c) => c.status === 'open')
    const unlimited = open.filter((c) => c.limits === undefined)
    return unlimited.length > 0 ? unlimited : open.slice(0, 1)
  }

  /** A connection that opens while a stream to its peer is being negotiated joins that race. */
  private readonly onConnectionOpen = (event: CustomEvent<Connection>): void => {
    const connection = event.detail
    if (connection.limits !== undefined) return
    const peer = connection.remotePeer.toString()
    for (const entry of this.races) if (entry.peer === peer) entry.race.add(connection)
  }

  private readonly onPeerConnect = (event: CustomEvent<Libp2pPeerId>): void => {
    this.emit('peer:connect', event.detail.toString())
  }

  private readonly onPeerDisconnect = (event: CustomEvent<Libp2pPeerId>): void => {
    this.emit('peer:disconnect', event.detail.toString())
  }
}

function channelKey(peer: PeerId, protocol: string): string {
  return `${peer} ${protocol}`
}

/** A failure's text; libp2p sometimes rejects with an Event (a stream's `close`) rather than an Error. */
function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message
  if (cause instanceof Event) return `${cause.type} event`
  return String(cause)
}
