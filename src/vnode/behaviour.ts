/**
 * The vnode contract: the callbacks a service implements so the framework can host one partition of its
 * data, mirroring riak_core's `riak_core_vnode` behaviour. The framework ({@link VnodeHost}) owns the
 * queue, the one-at-a-time processing, the states (active, handing off, forwarding) and the forwarding;
 * the behaviour only turns a request and a state into a result and a new state.
 *
 * Every callback may be synchronous or return a promise (storage is asynchronous). The host never runs
 * two callbacks of one vnode at the same time, except {@link VnodeBehaviour.fold}, which streams data out
 * for a handoff while commands keep being served (riak_core folds in an async worker for the same
 * reason: a handoff must never wait for the vnode to be idle). Expected outcomes are tagged results;
 * a callback may also throw a `SolarOrbitError` (a `TooLargeError`, say) to reject the one request it
 * is handling with that error. Anything else it throws is a bug: the host emits it and rejects the
 * request with a `VnodeCallbackError`, keeping the state from before the callback.
 */
import type { SolarOrbitError } from '../core/index.ts'
import type { MemberId } from '../ring/index.ts'
import type { StorageBackend, StorageSize } from '../storage/backend.ts'

/** A value or a promise of it: callbacks may be synchronous or asynchronous. */
export type Awaitable<T> = T | Promise<T>

/**
 * Where the reply of one request goes (riak_core's `Sender`). The host creates one per request. A
 * behaviour that returned `noreply` keeps it and answers later; only the first answer counts.
 */
export interface VnodeSender<Reply> {
  /** Answers the request with `reply`. */
  reply(reply: Reply): void
  /** Rejects the request with `error`. */
  fail(error: SolarOrbitError): void
}

/** The vnode a handoff moves data to. */
export interface HandoffTarget {
  /**
   * `ownership`: the partition changes owner in the ring (a join, leave or rebalance). `hinted`: a
   * fallback vnode returns the writes it accepted for a down primary.
   */
  readonly type: 'ownership' | 'hinted'
  /** The partition on the target; the same partition as the source vnode. */
  readonly partition: number
  /** The member that receives the data. */
  readonly member: MemberId
}

/**
 * Restricts a coverage request to the keys of some partitions (riak_core's coverage filter): a vnode
 * asked to cover only part of its preflist answers only for keys whose ring position falls in one of
 * `partitions` of a ring of `partitionCount` partitions. Plain data, so it can be forwarded to a peer.
 */
export interface KeyFilter {
  /** Q of the ring the partitions refer to. */
  readonly partitionCount: number
  /** The partitions whose keys the request covers. */
  readonly partitions: readonly number[]
}

/** What {@link VnodeBehaviour.handleCommand} and {@link VnodeBehaviour.handleCoverage} return. */
export type CommandResult<State, Reply> =
  /** Answer the request now with `reply`. */
  | { readonly kind: 'reply'; readonly reply: Reply; readonly state: State }
  /** The behaviour kept the sender and will answer through it later. */
  | { readonly kind: 'noreply'; readonly state: State }
  /**
   * Stop the vnode: the host calls {@link VnodeBehaviour.terminate} with `reason`, then rejects this
   * request and every queued one with a `VnodeStoppedError`.
   */
  | { readonly kind: 'stop'; readonly reason: string; readonly state: State }

/** What {@link VnodeBehaviour.handleHandoffCommand} returns. */
export type HandoffCommandResult<State, Request, Reply> =
  /** Answer locally now with `reply` (a read the local data can still serve, say). */
  | { readonly kind: 'reply'; readonly reply: Reply; readonly state: State }
  /** The behaviour kept the sender and will answer through it later. */
  | { readonly kind: 'noreply'; readonly state: State }
  /**
   * Send a request to the handoff target, which answers it (a write the target must see): `request`
   * when given (the write as applied here, say, so the target merges it rather than applying it as a
   * new write), else the original request.
   */
  | { readonly kind: 'forward'; readonly state: State; readonly request?: Request }
  /** Refuse the request: the caller is rejected with a `CommandDroppedError`. */
  | { readonly kind: 'drop'; readonly state: State }

/** What {@link VnodeBehaviour.handoffStarting} returns. */
export type HandoffStartingResult<State> =
  /** The handoff may start; the vnode enters the handing-off state. */
  | { readonly kind: 'accept'; readonly state: State }
  /** The handoff may not start now (the transfer scheduler retries later and shows `reason`). */
  | { readonly kind: 'veto'; readonly reason: string; readonly state: State }

/** What {@link VnodeBehaviour.handleHandoffData} returns. */
export type HandoffDataResult<State> =
  /** Every item is applied (or was already there). */
  | { readonly kind: 'ok'; readonly state: State }
  /** An item was refused (malformed, too large); the sender sees `error`. */
  | { readonly kind: 'error'; readonly error: SolarOrbitError; readonly state: State }

/**
 * One item of a handoff: a key and value as the sending vnode's {@link VnodeBehaviour.fold} visited
 * them. They travel as they are, so the value's format is the behaviour's own, versioned as it stores it.
 */
export interface HandoffItem {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

/** Whether a vnode holds data, and how much (for handoff progress and ETA). */
export interface IsEmptyResult {
  /** True when the vnode holds nothing worth handing off. */
  readonly empty: boolean
  /** Items and bytes the vnode holds. */
  readonly size: StorageSize
}

/** What a fold visitor returns: `'stop'` ends the fold early (flow control); anything else continues. */
export type FoldStep = 'continue' | 'stop' | undefined

/**
 * Receives one item of a fold. `key` is also the cursor: a fold started with `after: key` resumes
 * just after this item. The fold waits for a returned promise before the next item (backpressure).
 */
export type FoldVisitor = (key: Uint8Array, value: Uint8Array) => Awaitable<FoldStep>

/** Options of {@link VnodeBehaviour.fold}. */
export interface VnodeFoldOptions {
  /** Resume strictly after this key (the cursor of an interrupted transfer). Default: from the start. */
  readonly after?: Uint8Array
}

/**
 * One service's vnode callbacks (riak_core_vnode's behaviour). `State` is the vnode's state, passed in
 * and returned by every callback; `Request`/`Reply` are the service's commands; `CoverageRequest` and
 * `CoverageReply` its requests over many partitions (listing keys, say).
 */
export interface VnodeBehaviour<
  State,
  Request,
  Reply,
  CoverageRequest = never,
  CoverageReply = never,
> {
  /**
   * Called by the host once, before anything else, when the vnode of `partition` starts (lazily on its
   * first request, or at node start for a partition holding data). Returns the initial state. Throwing
   * stops the vnode and rejects the requests queued meanwhile.
   */
  init(partition: number, storage: StorageBackend): Awaitable<State>

  /** Called by the host for each command while the vnode is active, one at a time, in arrival order. */
  handleCommand(
    request: Request,
    sender: VnodeSender<Reply>,
    state: State,
  ): Awaitable<CommandResult<State, Reply>>

  /**
   * Called by the host for each coverage request (a fold over many partitions, planned by the
   * coverage coordinator) while active or handing off. `keyFilter`, when given, restricts the answer
   * to the keys of some partitions.
   */
  handleCoverage(
    request: CoverageRequest,
    keyFilter: KeyFilter | undefined,
    sender: VnodeSender<CoverageReply>,
    state: State,
  ): Awaitable<CommandResult<State, CoverageReply>>

  /**
   * Called by the host when the handoff scheduler asks to start a handoff to `target`. Never waits for
   * the vnode to be idle: it runs right after the callback in progress, ahead of queued commands.
   */
  handoffStarting(target: HandoffTarget, state: State): Awaitable<HandoffStartingResult<State>>

  /** Called by the host when a started handoff is abandoned; the vnode is active again. */
  handoffCancelled(state: State): Awaitable<State>

  /**
   * Called by the host when every item reached `target`. The host then calls {@link delete} and
   * forwards every later request to the target.
   */
  handoffFinished(target: HandoffTarget, state: State): Awaitable<State>

  /**
   * Called by the host instead of {@link handleCommand} for each command that arrives while handing
   * off: answer locally, forward to the target, or drop.
   */
  handleHandoffCommand(
    request: Request,
    sender: VnodeSender<Reply>,
    state: State,
  ): Awaitable<HandoffCommandResult<State, Request, Reply>>

  /**
   * Called by the handoff sender (through the host) to stream the vnode's items out, in ascending key
   * order from `options.after`; each visited key and value is one {@link HandoffItem} for the
   * target's {@link handleHandoffData}. Runs beside command processing on the state current when it started:
   * items written meanwhile may or may not be visited, which is safe because handoff data is applied
   * by merge and commands arriving while handing off reach the target through
   * {@link handleHandoffCommand}. Resolves when the data is exhausted or the visitor returned `'stop'`.
   */
  fold(visitor: FoldVisitor, state: State, options: VnodeFoldOptions): Promise<void>

  /**
   * Called by the host on the receiving vnode for one batch of a transfer's items (riak_core calls
   * it per item; a batch lets the vnode look up and write many items at once), queued like one
   * command. Items are in the order the sender folded them; their keys and values may be views into
   * the received message, so copy what must outlive the call (storage copies what it keeps). They come
   * from another member: validate them like any input from the network.
   * Must be idempotent: a resumed transfer may send items again, and applying one twice must leave
   * the same data as applying it once. Must be durable when it resolves: the receiver then
   * acknowledges the batch, and the sender deletes its copy. On an error result the batch counts as
   * not applied (some items may be), and the sender resends it.
   */
  handleHandoffData(
    items: readonly HandoffItem[],
    state: State,
  ): Awaitable<HandoffDataResult<State>>

  /** Called by the host for the handoff scheduler: whether there is anything to hand off, and its size. */
  isEmpty(state: State): Awaitable<IsEmptyResult>

  /** Called by the host after {@link handoffFinished}: remove every item the vnode holds. */
  delete(state: State): Awaitable<State>

  /** Called by the host once when the vnode stops, with the reason. The last callback of a vnode. */
  terminate(reason: string, state: State): Awaitable<void>

  /**
   * Called by the host, without the state, for a command that finds the queue full: the reply to send
   * instead (riak_core's `handle_overload_command`). Default: reject with an `OverloadError`.
   */
  handleOverloadCommand?(request: Request, partition: number): Reply
}
