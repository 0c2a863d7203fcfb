/**
 * The requesting side of the KV vnode protocol: sends a command or coverage request to the vnode of one
 * partition on one member over the {@link Transport}, and validates the reply (riak_core's
 * `riak_core_vnode_master:command` across nodes). A request to this node's own id is served by the
 * transport's local handler, so coordinators treat local and remote replicas alike.
 */
import { DecodeError, type Random } from '../core/index.ts'
import type {
  KvCoverageReply,
  KvCoverageRequest,
  KvGetReply,
  KvRequest,
  KvWriteReply,
} from '../kv/index.ts'
import type { MemberId } from '../ring/index.ts'
import type { Transport } from '../transport/index.ts'
import type { KeyFilter } from '../vnode/index.ts'
import {
  decodeVnodeReply,
  encodeVnodeMessage,
  type VnodeCodecInit,
  type VnodeMessage,
  type VnodeReply,
} from './vnode-codec.ts'

/**
 * The protocol id of the KV vnode protocol in `cluster`, after ARCHITECTURE.md §7:
 * `/solar-orbit/<cluster>/vnode/kv/1.0.0`.
 */
export function kvVnodeProtocol(cluster: string): string {
  return `/solar-orbit/${cluster}/vnode/kv/1.0.0`
}

/** Options of a {@link VnodeClient}. */
export interface VnodeClientInit extends VnodeCodecInit {
  /** The node's transport. Required. */
  readonly transport: Transport
  /** The protocol id the peers serve (see {@link kvVnodeProtocol}). Required. */
  readonly protocol: string
  /**
   * Draws the 64-bit request id of each put and delete, which lets the server apply a duplicated
   * delivery once. Must not replay across restarts (`crypto` in production, a fork per boot in a
   * simulation). Required.
   */
  readonly random: Random
}

/** Options of one vnode request. */
export interface VnodeCallOptions {
  /** Reject with `TimeoutError` after this many ms. Default: the transport's request timeout. */
  readonly timeoutMs?: number
  /** Aborting rejects the request with the signal's reason. */
  readonly signal?: AbortSignal
}

/** The reply type each request type is answered with. */
type ReplyOf<R extends KvRequest> = R extends { type: 'get' } ? KvGetReply : KvWriteReply

/** Sends KV vnode requests to members over the transport. */
export class VnodeClient {
  readonly #init: VnodeClientInit

  constructor(init: VnodeClientInit) {
    this.#init = init
  }

  /**
   * Sends `request` to the vnode of `partition` on `member`. Rejects with the transport's errors
   * (`TimeoutError`, `UnreachableError`, a `RemoteError` carrying the vnode's error code, ...) or a
   * `DecodeError` when the reply is malformed or does not match the request.
   */
  async command<R extends KvRequest>(
    member: MemberId,
    partition: number,
    request: R,
    options: VnodeCallOptions = {},
  ): Promise<ReplyOf<R>> {
    const message: VnodeMessage =
      request.type === 'put' || request.type === 'delete'
        ? { kind: 'command', partition, request, requestId: this.#requestId() }
        : { kind: 'command', partition, request }
    const reply = await this.#call(member, message, options)
    const expected = request.type === 'get' ? 'get' : 'written'
    if (reply.type !== expected) {
      throw new DecodeError(`expected a ${expected} reply to ${request.type}, got ${reply.type}`)
    }
    return reply as ReplyOf<R>
  }

  /** Sends a coverage request to the vnode of `partition` on `member`; rejects as {@link command}. */
  async coverage(
    member: MemberId,
    partition: number,
    request: KvCoverageRequest,
    keyFilter: KeyFilter | undefined,
    options: VnodeCallOptions = {},
  ): Promise<KvCoverageReply> {
    const message: VnodeMessage = { kind: 'coverage', partition, request, keyFilter }
    const reply = await this.#call(member, message, options)
    if (reply.type !== 'keys') throw new DecodeError(`expected a keys reply, got ${reply.type}`)
    return reply
  }

  #requestId(): Uint8Array {
    const id = new Uint8Array(8)
    const view = new DataView(id.buffer)
    view.setUint32(0, this.#init.random.nextU32())
    view.setUint32(4, this.#init.random.nextU32())
    return id
  }

  async #call(
    member: MemberId,
    message: VnodeMessage,
    options: VnodeCallOptions,
  ): Promise<VnodeReply> {
    const { transport, protocol } = this.#init
    const bytes = await transport.request(
      member,
      protocol,
      encodeVnodeMessage(message, this.#init),
      options,
    )
    return decodeVnodeReply(bytes, this.#init)
  }
}
