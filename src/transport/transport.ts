/**
 * The Transport port: how one node talks to the others. Request/response to one peer by protocol name,
 * a best-effort topic broadcast (the gossip channel), and peer connect/disconnect events. Payloads are
 * bytes; encoding them is the codec's job, one layer up.
 */
import type { TypedEventTarget } from './typed-event-target.ts'

/** A peer's identity: its member id (libp2p peer id string). Same shape as the ring's `MemberId`. */
export type PeerId = string

/**
 * Serves one protocol. Called by the transport once per incoming request, with the request's bytes and
 * the sending peer. Resolves with the response bytes, or throws: a `SolarOrbitError`'s `code` and message
 * travel back and the requester rejects with a `RemoteError` carrying that code; any other throw reaches
 * the requester as `RemoteError` with `remoteCode` `'ERR_INTERNAL'`. A handler may run more than once
 * for one request if the network duplicates it, so handlers must tolerate replays.
 */
export type ProtocolHandler = (
  request: Uint8Array,
  from: PeerId,
) => Promise<Uint8Array> | Uint8Array

/** Receives one broadcast message of a subscribed topic, with the peer that published it. */
export type TopicListener = (data: Uint8Array, from: PeerId) => void

/** Stops a subscription; calling it again does nothing. */
export type Unsubscribe = () => void

/** Options of one {@link Transport.request}. */
export interface RequestOptions {
  /** Reject with `TimeoutError` if no response arrived within this many ms. Default: the transport's `requestTimeoutMs`. */
  timeoutMs?: number
  /** Aborting rejects the request with the signal's `reason` (an `AbortError` `DOMException` by default). */
  signal?: AbortSignal
}

/** Events of a {@link Transport}; `detail` is the peer. */
export interface TransportEvents {
  /** A connection to the peer opened: requests to it may now succeed. */
  'peer:connect': PeerId
  /** The last connection to the peer closed: requests to it fail with `UnreachableError` until it reconnects. */
  'peer:disconnect': PeerId
}

/**
 * One node's endpoint. Implementations: `SimNetwork`'s transports (deterministic simulation) and the
 * libp2p transport; both pass `test/transport/compliance.ts`.
 *
 * Lifecycle: created stopped; {@link start} connects; {@link stop} disconnects and rejects pending
 * requests with `ClosedError`. Handlers and subscriptions registered before `start` or across
 * `stop`/`start` stay registered.
 */
export interface Transport extends TypedEventTarget<TransportEvents> {
  /** This node's own id. */
  readonly self: PeerId

  /** Starts listening and connecting to peers. Starting a started transport does nothing. */
  start(): Promise<void>

  /** Closes every connection; pending requests reject with `ClosedError`. Stopping a stopped transport does nothing. */
  stop(): Promise<void>

  /** Whether the transport is started. */
  isStarted(): boolean

  /** The peers currently connected, in no particular order (not including {@link self}). */
  peers(): PeerId[]

  /**
   * Sends `request` to `peer`'s handler of `protocol` and resolves with its response. A request to
   * {@link self} is served by the local handler. Rejects with:
   * - `UnreachableError` when the peer is not connected, or its connection closes before the response;
   * - `TimeoutError` after `timeoutMs` without a response (the peer may have acted on it);
   * - `UnsupportedProtocolError` when the peer has no handler for `protocol`;
   * - `RemoteError` when the peer's handler threw (its code in `remoteCode`);
   * - the signal's `reason` when `options.signal` aborts;
   * - `ClosedError` when this transport is not started, or stops while waiting.
   */
  request(
    peer: PeerId,
    protocol: string,
    request: Uint8Array,
    options?: RequestOptions,
  ): Promise<Uint8Array>

  /** Serves `protocol` with `handler`. Throws `InvalidArgumentError` if `protocol` already has a handler. */
  handle(protocol: string, handler: ProtocolHandler): void

  /** Stops serving `protocol`; later requests for it fail with `UnsupportedProtocolError`. Unknown protocols are ignored. */
  unhandle(protocol: string): void

  /**
   * Sends `data` to every connected peer subscribed to `topic`, not to this node. Best effort: no
   * acknowledgement, and messages may be lost, delayed, duplicated or reordered; gossip is a hint.
   * Throws `ClosedError` when the transport is not started.
   */
  broadcast(topic: string, data: Uint8Array): void

  /** Calls `listener` for each message other peers broadcast on `topic`, until the returned function is called. */
  subscribe(topic: string, listener: TopicListener): Unsubscribe
}
