/**
 * The requesting side of the KV vnode protocol: sends a command or coverage request to the vnode of one
 * partition on one member over the {@link Transport}, and validates the reply (riak_core's
 * `riak_core_vnode_master:command` across nodes). Coordinators treat local and remote replicas alike:
 * a request for this node's own vnodes runs on them in-process when the client was given them
 * ({@link VnodeClientInit.local}), else through the transport's local handler.
 */
import { copyBytes, DecodeError, type Random, type Scheduler } from '../core/index.ts'
import type {
  KvCoverageReply,
  KvCoverageRequest,
  KvGetReply,
  KvMergedReply,
  KvReply,
  KvRequest,
  KvWriteReply,
} from '../kv/index.ts'
import type { MemberId } from '../ring/index.ts'
import { PendingRequest, type Transport } from '../transport/index.ts'
import type { KeyFilter } from '../vnode/index.ts'
import {
  decodeVnodeReply,
  encodeVnodeMessage,
  type VnodeCodecInit,
  type VnodeMessage,
  type VnodeReply,
} from './vnode-codec.ts'
import type { KvVnodes } from './vnode-server.ts'

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
  /**
   * This node's own vnodes: a request for `transport.self` runs on them directly, without encoding,
   * the transport or the membership check (a node always serves itself), under the same timeout and
   * abort signal. Default: none, so such commands go through the transport's local handler.
   */
  readonly local?: LocalVnodes
}

/** The vnodes of this node, for {@link VnodeClientInit.local}. */
export interface LocalVnodes {
  /** Runs requests on the vnode of a partition (a `VnodeManager` of the KV service fits). */
  readonly vnodes: KvVnodes
  /**
   * Arms the deadline of a local request: its `timeoutMs`, or {@link LOCAL_TIMEOUT_MS} without one
   * (the libp2p transport's default).
   */
  readonly scheduler: Scheduler
}

/** Options of one vnode request. */
export interface VnodeCallOptions {
  /** Reject with `TimeoutError` after this many ms. Default: the transport's request timeout. */
  readonly timeoutMs?: number
  /** Aborting rejects the request with the signal's reason. */
  readonly signal?: AbortSignal
}

/**
 * The reply type each request type is answered with: a merge is acknowledged, unless it asks for the
 * merged object back (`returnBody`).
 */
type ReplyOf<R extends KvRequest> = R extends { type: 'get' }
  ? KvGetReply
  : R extends { type: 'merge'; returnBody: true }
    ? KvWriteReply
    : R extends { type: 'merge' }
      ? KvMergedReply
      : KvWriteReply

/** Deadline of a local request without its own `timeoutMs`, in ms. */
export const LOCAL_TIMEOUT_MS = 10_000

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
    let reply: VnodeReply
    const local = this.#local(member)
    if (local !== undefined) {
      // The vnode may keep the value after this returns (a put waits for storage first): it must not
      // see the caller change the buffer afterwards, as a request that was encoded would not.
      const owned =
        request.type === 'put' ? { ...request, value: copyBytes(request.value) } : request
      reply = await this.#runLocally(local, options, () => local.vnodes.command(partition, owned))
    } else {
      const message: VnodeMessage =
        request.type === 'put' || request.type === 'delete'
          ? { kind: 'command', partition, request, requestId: this.#requestId() }
          : { kind: 'command', partition, request }
      reply = await this.#call(member, message, options)
    }
    const expected = expectedReply(request)
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
    const local = this.#local(member)
    const reply: VnodeReply =
      local === undefined
        ? await this.#call(member, { kind: 'coverage', partition, request, keyFilter }, options)
        : await this.#runLocally(local, options, () =>
            local.vnodes.coverage(partition, request, keyFilter),
          )
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

  /** This node's vnodes when `member` is this node and the client was given them. */
  #local(member: MemberId): LocalVnodes | undefined {
    return member === this.#init.transport.self ? this.#init.local : undefined
  }

  /** Runs `serve` on this node's vnodes, settling like a transport request: deadline and signal. */
  #runLocally<T>(
    local: LocalVnodes,
    options: VnodeCallOptions,
    serve: () => Promise<T>,
  ): Promise<T> {
    const pending = new PendingRequest<T>({
      scheduler: local.scheduler,
      peer: this.#init.transport.self,
      protocol: this.#init.protocol,
      timeoutMs: options.timeoutMs ?? LOCAL_TIMEOUT_MS,
      signal: options.signal,
    })
    if (!pending.settled) {
      serve().then(
        (reply) => pending.resolve(reply),
        (error: unknown) => pending.reject(error),
      )
    }
    return pending.promise
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

/** The reply type `request` must be answered with. */
function expectedReply(request: KvRequest): KvReply['type'] {
  if (request.type === 'get') return 'get'
  if (request.type === 'merge' && request.returnBody !== true) return 'merged'
  return 'written'
}
