/**
 * The KV coordinator of one node: get, put, delete and list keys for any client of the node, guests
 * included (a guest owns no vnodes, so every replica it asks is remote). It turns a request into a
 * preflist of the current ring, resolves the bucket's quorum settings, and runs the matching
 * coordinator (get.ts, put.ts, coverage.ts).
 */

import type { VersionVector } from '../clock/index.ts'
import type { Clock, Random, Scheduler } from '../core/index.ts'
import { InvalidArgumentError } from '../core/index.ts'
import type { KeyPart, MemberId, Ring } from '../ring/index.ts'
import { preflist } from '../ring/index.ts'
import type { Transport } from '../transport/index.ts'
import {
  type BucketProps,
  type BucketPropsMap,
  DEFAULT_BUCKET_PROPS,
  resolveBucketProps,
} from './bucket-props.ts'
import { coordinateListKeys, type ListKeysResult } from './coverage.ts'
import { NoRingError } from './errors.ts'
import { coordinateGet, type GetResult } from './get.ts'
import { coordinatePut, type PutResult } from './put.ts'
import type {
  CoordinatorContext,
  CoordinatorLogger,
  CoordinatorOptions,
  PlannedRequest,
} from './request.ts'
import { VnodeClient } from './vnode-client.ts'
import type { VnodeCodecInit } from './vnode-codec.ts'
import type { KvVnodes } from './vnode-server.ts'

/** Default of {@link KvCoordinatorInit.timeoutMs}: 5000 ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000

/** Dependencies of a {@link KvCoordinator}. */
export interface KvCoordinatorComponents {
  /** The node's transport; `transport.self` is this node's member id. */
  readonly transport: Transport
  /** Measures the time left of a request. */
  readonly clock: Clock
  /** Arms request deadlines. */
  readonly scheduler: Scheduler
  /** Draws request ids of writes (see `VnodeClientInit.random`); must not replay across restarts. */
  readonly random: Random
  /**
   * This node's vnodes (a `VnodeManager` of the KV service fits), which then serve its own replicas
   * in-process (see `VnodeClientInit.local`). Default: none, so they are asked through the transport
   * like any other member's.
   */
  readonly vnodes?: KvVnodes
}

/** Options of a {@link KvCoordinator}. */
export interface KvCoordinatorInit extends VnodeCodecInit {
  /** The KV vnode protocol id the members serve (see `kvVnodeProtocol`). Required. */
  readonly protocol: string
  /** The current ring, or undefined before the node learned one (requests then reject with `NoRingError`). Required. */
  readonly ring: () => Ring | undefined
  /** Whether a member is up, for sloppy quorum: down owners are replaced by fallbacks. Required. */
  readonly isUp: (member: MemberId) => boolean
  /** Quorum settings of every bucket not in {@link buckets}. Default {@link DEFAULT_BUCKET_PROPS}. */
  readonly defaults?: Partial<BucketProps>
  /** Quorum settings of named buckets, over {@link defaults}. Default: none. */
  readonly buckets?: BucketPropsMap
  /** Timeout of a whole request, in ms. Default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  readonly timeoutMs?: number
  /** Debug logger for failures after a request answered. Default: none. */
  readonly log?: CoordinatorLogger
}

/** Options of {@link KvCoordinator.get}: quorum overrides (n, r, pr), timeout, signal. */
export type GetOptions = CoordinatorOptions

/** Options of {@link KvCoordinator.put} and {@link KvCoordinator.delete}. */
export interface PutOptions extends CoordinatorOptions {
  /**
   * The context of the read this write follows (`GetResult.context`): values it covers are superseded.
   * Default: none for a put (a blind write that supersedes nothing, kept as a sibling of what is
   * there); for a delete, everything the coordinating vnode holds for the key.
   */
  readonly context?: VersionVector
}

/** Options of {@link KvCoordinator.listKeys}: the bucket's n may be overridden; timeout, signal. */
export type ListKeysOptions = Pick<CoordinatorOptions, 'n' | 'timeoutMs' | 'signal'>

/** Coordinates KV requests from this node; see the module comment. */
export class KvCoordinator {
  readonly #context: CoordinatorContext
  readonly #init: KvCoordinatorInit
  readonly #defaults: BucketProps
  readonly #buckets: BucketPropsMap
  readonly #timeoutMs: number

  /** Throws `InvalidArgumentError` for a timeout that is not positive and finite. */
  constructor(components: KvCoordinatorComponents, init: KvCoordinatorInit) {
    this.#init = init
    this.#defaults = { ...DEFAULT_BUCKET_PROPS, ...init.defaults }
    this.#buckets = init.buckets ?? new Map()
    this.#timeoutMs = checkTimeout(init.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
    this.#context = {
      self: components.transport.self,
      client: new VnodeClient({
        ...init,
        transport: components.transport,
        random: components.random,
        ...(components.vnodes !== undefined && {
          local: { vnodes: components.vnodes, scheduler: components.scheduler },
        }),
      }),
      clock: components.clock,
      scheduler: components.scheduler,
      log: init.log,
    }
  }

  /**
   * Reads `key`: resolves once R replicas (PR primaries) answered. Rejects with `InvalidArgumentError`
   * for bad settings, `NoRingError`, `QuorumError`, or the signal's reason.
   */
  async get(bucket: KeyPart, key: KeyPart, options: GetOptions = {}): Promise<GetResult> {
    return coordinateGet(this.#context, bucket, key, this.#plan(bucket, key, options))
  }

  /**
   * Writes `value` to `key`: resolves once W replicas (PW primaries, DW durable) acknowledged.
   * Rejects as {@link get}.
   */
  async put(
    bucket: KeyPart,
    key: KeyPart,
    value: Uint8Array,
    options: PutOptions = {},
  ): Promise<PutResult> {
    const proposal = { type: 'put', value, ...pickContext(options) } as const
    return coordinatePut(this.#context, bucket, key, proposal, this.#plan(bucket, key, options))
  }

  /** Deletes `key` with a tombstone ordered causally like a write; resolves and rejects as {@link put}. */
  async delete(bucket: KeyPart, key: KeyPart, options: PutOptions = {}): Promise<PutResult> {
    const proposal = { type: 'delete', ...pickContext(options) } as const
    return coordinatePut(this.#context, bucket, key, proposal, this.#plan(bucket, key, options))
  }

  /**
   * Lists the live keys of `bucket` over a coverage plan of the current ring. Rejects with
   * `InvalidArgumentError`, `NoRingError`, `CoverageError`, or the signal's reason.
   */
  async listKeys(bucket: KeyPart, options: ListKeysOptions = {}): Promise<ListKeysResult> {
    const ring = this.#ring()
    const { n } = resolveBucketProps(this.#defaults, this.#buckets, bucket, options)
    if (n > ring.partitionCount) {
      throw new InvalidArgumentError(
        `n = ${n} exceeds the ring's ${ring.partitionCount} partitions`,
      )
    }
    return coordinateListKeys(this.#context, bucket, {
      ring,
      n,
      isUp: this.#init.isUp,
      timeoutMs: checkTimeout(options.timeoutMs ?? this.#timeoutMs),
      signal: options.signal,
    })
  }

  #plan(bucket: KeyPart, key: KeyPart, options: CoordinatorOptions): PlannedRequest {
    const props = resolveBucketProps(this.#defaults, this.#buckets, bucket, options)
    const timeoutMs = checkTimeout(options.timeoutMs ?? this.#timeoutMs)
    const entries = preflist(this.#ring(), { bucket, key }, props.n, this.#init.isUp)
    return {
      entries,
      props,
      timeoutMs,
      deadlineMs: this.#context.clock.now() + timeoutMs,
      signal: options.signal,
    }
  }

  #ring(): Ring {
    const ring = this.#init.ring()
    if (ring === undefined) throw new NoRingError()
    return ring
  }
}

function pickContext(options: PutOptions): { context?: VersionVector } {
  return options.context === undefined ? {} : { context: options.context }
}

function checkTimeout(timeoutMs: number): number {
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new InvalidArgumentError(`timeoutMs must be positive and finite, got ${timeoutMs}`)
  }
  return timeoutMs
}
