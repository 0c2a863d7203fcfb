/**
 * The vnode manager: one per node and service (riak_core_vnode_manager). It starts the vnode of a
 * partition lazily, on the first request for it, whether this node is the partition's primary or a
 * fallback standing in for a down primary; the manager only knows partitions, never the ring. At node
 * start it restarts a vnode for every partition that holds data in the node's storage, so a fallback
 * holding hints always comes back after a restart and can hand them off (riak_core once forgot to
 * restart fallback vnodes, stranding their hints). A vnode that stops is forgotten once it has fully
 * stopped (terminated, storage closed); requests arriving while it stops are rejected with a
 * `VnodeStoppedError`, and the next one after that starts a fresh vnode, so two vnodes never share a
 * partition's storage.
 */
import { ClosedError, InvalidArgumentError } from '../core/index.ts'
import type { NodeStorage } from '../storage/backend.ts'
import { TypedEventEmitter } from '../transport/index.ts'
import type { KeyFilter, VnodeBehaviour } from './behaviour.ts'
import {
  type VnodeForwarder,
  VnodeHost,
  type VnodeHostEvents,
  type VnodeInfo,
  type VnodeLogger,
} from './host.ts'

/** Options of a {@link VnodeManager}. */
export interface VnodeManagerInit<
  State,
  Request,
  Reply,
  CoverageRequest = never,
  CoverageReply = never,
> {
  /** The service's vnode callbacks, shared by every vnode of the manager. */
  readonly behaviour: VnodeBehaviour<State, Request, Reply, CoverageRequest, CoverageReply>
  /** The node's storage. */
  readonly storage: NodeStorage
  /** Sends requests to a handoff target's vnode (over the transport, in a node). */
  readonly forwarder: VnodeForwarder<Request, Reply, CoverageRequest, CoverageReply>
  /** Queue capacity of each vnode. Default: the host's default, 1024. */
  readonly queueCapacity?: number
  /** Debug logger. Default: none. */
  readonly log?: VnodeLogger
}

/** Starts, finds and lists the vnodes of one service on one node. Re-emits its vnodes' events. */
export class VnodeManager<
  State,
  Request,
  Reply,
  CoverageRequest = never,
  CoverageReply = never,
> extends TypedEventEmitter<VnodeHostEvents> {
  readonly #init: VnodeManagerInit<State, Request, Reply, CoverageRequest, CoverageReply>
  readonly #vnodes = new Map<
    number,
    VnodeHost<State, Request, Reply, CoverageRequest, CoverageReply>
  >()
  #closed = false

  constructor(init: VnodeManagerInit<State, Request, Reply, CoverageRequest, CoverageReply>) {
    super()
    this.#init = init
  }

  /**
   * Restarts a vnode for every partition holding data in the storage (primaries and fallbacks alike)
   * and resolves with those partitions once their `init` ran. A vnode that fails to start is reported
   * through `'vnode:error'` and left stopped; the others still start.
   */
  async start(): Promise<number[]> {
    const partitions = (await this.#init.storage.partitions()).sort((a, b) => a - b)
    const hosts = partitions.map((partition) => this.vnode(partition))
    await Promise.allSettled(hosts.map((host) => host.started()))
    return partitions
  }

  /**
   * The running vnode of `partition`, started now if there is none. Throws `InvalidArgumentError` for
   * a partition that is not a non-negative integer and `ClosedError` after {@link stop}.
   */
  vnode(partition: number): VnodeHost<State, Request, Reply, CoverageRequest, CoverageReply> {
    if (this.#closed) throw new ClosedError('vnode manager')
    if (!Number.isSafeInteger(partition) || partition < 0) {
      throw new InvalidArgumentError(`partition must be a non-negative integer, got ${partition}`)
    }
    const running = this.#vnodes.get(partition)
    if (running) return running
    const { behaviour, storage, forwarder, queueCapacity, log } = this.#init
    const host = new VnodeHost({ partition, behaviour, storage, forwarder, queueCapacity, log })
    this.#vnodes.set(partition, host)
    host.addEventListener('vnode:error', (event) => this.emit('vnode:error', event.detail))
    host.addEventListener('vnode:changed', (event) => {
      if (event.detail.status === 'stopped' && this.#vnodes.get(partition) === host) {
        this.#vnodes.delete(partition)
      }
      this.emit('vnode:changed', event.detail)
    })
    return host
  }

  /** Sends a command to the vnode of `partition` (starting it if needed); see `VnodeHost.command`. */
  async command(partition: number, request: Request): Promise<Reply> {
    return this.vnode(partition).command(request)
  }

  /** Sends a coverage request to the vnode of `partition`; see `VnodeHost.coverage`. */
  async coverage(
    partition: number,
    request: CoverageRequest,
    keyFilter?: KeyFilter,
  ): Promise<CoverageReply> {
    return this.vnode(partition).coverage(request, keyFilter)
  }

  /** A snapshot of every running vnode, by partition (for operators and the demo). */
  running(): VnodeInfo[] {
    return [...this.#vnodes.values()]
      .map((host) => host.info())
      .sort((a, b) => a.partition - b.partition)
  }

  /** Stops every vnode with `reason` (default `'shutdown'`); later calls to {@link vnode} throw `ClosedError`. */
  async stop(reason = 'shutdown'): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#vnodes.values()].map((host) => host.stop(reason)))
  }
}
