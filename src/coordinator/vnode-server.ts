/**
 * The serving side of the KV vnode protocol: decodes each request, refuses peers that are not
 * authorized cluster members, hands the command to the node's vnodes and encodes the reply (riak_core's
 * `riak_core_vnode_master` receiving a command from another node). Failures are thrown as typed errors
 * and travel back as their code (`ERR_NOT_MEMBER`, `ERR_DECODE`, `ERR_OVERLOAD`, ...); a malformed
 * request fails only itself.
 *
 * The transport may deliver a request twice. Gets, merges and listings are idempotent; a put or
 * delete is not (each application is a new dot), so the server remembers the replies of the last
 * {@link ServeVnodesInit.replayWindow} writes by sender and request id, and answers a duplicate with
 * the first reply instead of applying it again.
 */
import type { KvCoverageReply, KvCoverageRequest, KvReply, KvRequest } from '../kv/index.ts'
import type { PeerId, Transport } from '../transport/index.ts'
import type { KeyFilter } from '../vnode/index.ts'
import { NotMemberError } from './errors.ts'
import { hex } from './hex.ts'
import {
  decodeVnodeMessage,
  encodeVnodeReply,
  type VnodeCodecInit,
  type VnodeMessage,
} from './vnode-codec.ts'

/** The vnodes a server dispatches to: a `VnodeManager` of the KV service fits. */
export interface KvVnodes {
  /** Runs `request` on the vnode of `partition` (starting it if needed). */
  command(partition: number, request: KvRequest): Promise<KvReply>
  /** Runs a coverage request on the vnode of `partition`. */
  coverage(
    partition: number,
    request: KvCoverageRequest,
    keyFilter?: KeyFilter,
  ): Promise<KvCoverageReply>
}

/** Options of {@link serveVnodes}. */
export interface ServeVnodesInit extends VnodeCodecInit {
  /** The protocol id to serve (see `kvVnodeProtocol`). Required. */
  readonly protocol: string
  /**
   * Whether `peer` may use this node's vnodes: true for cluster members (and authorized guests).
   * Called for every request, before its bytes are decoded. Required.
   */
  readonly authorize: (peer: PeerId) => boolean
  /**
   * Writes (put, delete) whose replies are remembered against duplicated deliveries, the oldest
   * forgotten first. Each remembered reply holds the object written, so this times the typical object
   * size bounds the memory it takes. Default {@link DEFAULT_REPLAY_WINDOW}.
   */
  readonly replayWindow?: number
}

/** Default of {@link ServeVnodesInit.replayWindow}: 1024 writes. */
export const DEFAULT_REPLAY_WINDOW = 1024

/**
 * Serves the node's KV vnodes on `transport` under `init.protocol`. Returns the function that stops
 * serving. Throws `InvalidArgumentError` if the protocol already has a handler.
 */
export function serveVnodes(
  transport: Transport,
  vnodes: KvVnodes,
  init: ServeVnodesInit,
): () => void {
  const replayWindow = init.replayWindow ?? DEFAULT_REPLAY_WINDOW
  const recent = new Map<string, Promise<Uint8Array>>()
  const serve = async (message: VnodeMessage): Promise<Uint8Array> => {
    const reply =
      message.kind === 'command'
        ? await vnodes.command(message.partition, message.request)
        : await vnodes.coverage(message.partition, message.request, message.keyFilter)
    return encodeVnodeReply(reply, init)
  }
  transport.handle(init.protocol, async (bytes, from) => {
    if (!init.authorize(from)) throw new NotMemberError(from)
    const message = decodeVnodeMessage(bytes, init)
    if (message.kind !== 'command' || message.requestId === undefined) return serve(message)
    const key = `${from}\n${hex(message.requestId)}`
    let reply = recent.get(key)
    if (reply === undefined) {
      reply = serve(message)
      recent.set(key, reply)
      if (recent.size > replayWindow) recent.delete(recent.keys().next().value!)
    }
    return reply
  })
  return () => transport.unhandle(init.protocol)
}
