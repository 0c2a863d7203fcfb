/**
 * The vnode host: the process riak_core_vnode runs for one partition of one service. It owns the
 * behaviour's state and a bounded {@link Mailbox}, runs one callback at a time, and moves through
 * the statuses `starting` → `active` ⇄ `handingOff` → `forwarding`, and `stopped` from any of them:
 *
 * - `active`: commands go to `handleCommand`, coverage to `handleCoverage`;
 * - `handingOff`: commands go to `handleHandoffCommand` (answer locally, forward to the target, or
 *   drop); coverage is still served locally, since the data is still here;
 * - `forwarding` (the handoff finished and the data was deleted): every request goes to the target
 *   through the {@link VnodeForwarder}, in arrival order, without waiting for its answer;
 * - `stopped`: every request is rejected with a `VnodeStoppedError`.
 *
 * Handoff control (start, cancel, finish, stop) jumps the command queue: it runs right after the
 * callback in progress, never waiting for the vnode to be idle.
 */
import { InvalidArgumentError, SolarOrbitError } from '../core/index.ts'
import type { NodeStorage, StorageBackend } from '../storage/backend.ts'
import { TypedEventEmitter } from '../transport/index.ts'
import type {
  CommandResult,
  FoldStep,
  FoldVisitor,
  HandoffItem,
  HandoffTarget,
  IsEmptyResult,
  KeyFilter,
  VnodeBehaviour,
  VnodeFoldOptions,
  VnodeSender,
} from './behaviour.ts'
import {
  CommandDroppedError,
  OverloadError,
  VnodeCallbackError,
  VnodeStatusError,
  VnodeStoppedError,
} from './errors.ts'
import { Mailbox, type MailboxJob } from './mailbox.ts'

/** Where a vnode sends the requests it does not serve itself: to the vnode of the handoff target. */
export interface VnodeForwarder<Request, Reply, CoverageRequest = never, CoverageReply = never> {
  /** Sends a command to `target`'s vnode and resolves with its answer. */
  command(target: HandoffTarget, request: Request): Promise<Reply>
  /** Sends a coverage request to `target`'s vnode and resolves with its answer. */
  coverage(
    target: HandoffTarget,
    request: CoverageRequest,
    keyFilter: KeyFilter | undefined,
  ): Promise<CoverageReply>
}

/** A debug logger; `@libp2p/logger`'s `Logger` fits. */
export interface VnodeLogger {
  (formatter: string, ...args: unknown[]): void
  error(formatter: string, ...args: unknown[]): void
}

/** Status of a vnode host; see the module comment. */
export type VnodeStatus = 'starting' | 'active' | 'handingOff' | 'forwarding' | 'stopped'

/** A snapshot of a vnode for operators. */
export interface VnodeInfo {
  readonly partition: number
  readonly status: VnodeStatus
  /** Requests waiting in the queue, not counting the one being processed. Exact. */
  readonly queueLength: number
  /** The queue's capacity. */
  readonly queueCapacity: number
  /** True while a callback (or a control operation) is running. */
  readonly busy: boolean
  /** The handoff target while handing off or forwarding. */
  readonly handoffTarget: HandoffTarget | undefined
}

/** A behaviour callback failed with something that is not a `SolarOrbitError`. */
export interface VnodeErrorDetail {
  readonly partition: number
  /** The callback (or host step) that failed, such as `handleCommand`. */
  readonly callback: string
  readonly error: unknown
}

/** Events of a {@link VnodeHost} (and, re-emitted, of a `VnodeManager`). */
export interface VnodeHostEvents extends Record<string, unknown> {
  /** The vnode changed status (including to `stopped`). */
  'vnode:changed': VnodeInfo
  /** A callback threw something unexpected; the request was rejected with a `VnodeCallbackError`. */
  'vnode:error': VnodeErrorDetail
}

/** What {@link VnodeHost.startHandoff} resolves with. */
export type HandoffStartOutcome =
  | { readonly kind: 'started' }
  | { readonly kind: 'vetoed'; readonly reason: string }

/** What {@link VnodeHost.foldHandoff} resolves with. */
export interface FoldProgress {
  /** Items visited. */
  readonly items: number
  /** Bytes of the items visited, keys and values. */
  readonly bytes: number
  /** Key of the last item visited: pass as `after` to resume. Undefined when nothing was visited. */
  readonly cursor: Uint8Array | undefined
  /** True when the fold reached the end of the data; false when the visitor stopped it. */
  readonly complete: boolean
}

/** Default of {@link VnodeHostInit.queueCapacity}. */
export const DEFAULT_QUEUE_CAPACITY = 1024

/** Options of a {@link VnodeHost}. */
export interface VnodeHostInit<
  State,
  Request,
  Reply,
  CoverageRequest = never,
  CoverageReply = never,
> {
  /** The partition this vnode serves. */
  readonly partition: number
  /** The service's callbacks. */
  readonly behaviour: VnodeBehaviour<State, Request, Reply, CoverageRequest, CoverageReply>
  /** The node's storage; the host opens the partition's backend before `init` and closes it after `terminate`. */
  readonly storage: NodeStorage
  /** Sends requests to the handoff target while handing off (when the behaviour says so) and forwarding. */
  readonly forwarder: VnodeForwarder<Request, Reply, CoverageRequest, CoverageReply>
  /** Most requests (commands, coverage, handoff data) that may wait; more are refused as overload. Default {@link DEFAULT_QUEUE_CAPACITY}. */
  readonly queueCapacity?: number
  /** Debug logger. Default: none. */
  readonly log?: VnodeLogger
}

type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: SolarOrbitError }

/** Hosts one vnode; see the module comment. Created `starting`: `init` is its first job. */
export class VnodeHost<
  State,
  Request,
  Reply,
  CoverageRequest = never,
  CoverageReply = never,
> extends TypedEventEmitter<VnodeHostEvents> {
  /** The partition this vnode serves. */
  readonly partition: number
  readonly #behaviour: VnodeBehaviour<State, Request, Reply, CoverageRequest, CoverageReply>
  readonly #forwarder: VnodeForwarder<Request, Reply, CoverageRequest, CoverageReply>
  readonly #log: VnodeLogger | undefined
  readonly #mailbox: Mailbox
  #status: VnodeStatus = 'starting'
  #state: State | undefined
  #backend: StorageBackend | undefined
  #target: HandoffTarget | undefined
  #stoppedReason: { reason: string; cause: unknown } | undefined
  readonly #started: Promise<void>

  constructor(init: VnodeHostInit<State, Request, Reply, CoverageRequest, CoverageReply>) {
    super()
    const capacity = init.queueCapacity ?? DEFAULT_QUEUE_CAPACITY
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new InvalidArgumentError(`queueCapacity must be a positive integer, got ${capacity}`)
    }
    this.partition = init.partition
    this.#behaviour = init.behaviour
    this.#forwarder = init.forwarder
    this.#log = init.log
    this.#mailbox = new Mailbox(capacity, (error) => this.#bug('mailbox', error))
    this.#started = this.#control('start', async () => {
      try {
        this.#backend = await init.storage.open(this.partition)
        this.#state = await this.#behaviour.init(this.partition, this.#backend)
      } catch (error) {
        this.#bug('init', error)
        await this.#shutDown('init failed', false, error)
        throw error instanceof SolarOrbitError
          ? error
          : new VnodeCallbackError(this.partition, 'init', error)
      }
      this.#setStatus('active')
    })
    // Reported through 'vnode:error'; callers see it through `started()` and VnodeStoppedError.
    this.#started.catch(() => {})
  }

  /** Resolves once `init` succeeded; rejects with what it failed with (wrapped unless a `SolarOrbitError`). */
  started(): Promise<void> {
    return this.#started
  }

  /** The current status. */
  get status(): VnodeStatus {
    return this.#status
  }

  /** Requests waiting in the queue, not counting the one being processed. */
  get queueLength(): number {
    return this.#mailbox.length
  }

  /** A snapshot for operators. */
  info(): VnodeInfo {
    return {
      partition: this.partition,
      status: this.#status,
      queueLength: this.#mailbox.length,
      queueCapacity: this.#mailbox.capacity,
      busy: this.#mailbox.busy,
      handoffTarget: this.#target,
    }
  }

  /**
   * Queues a command. Resolves with the behaviour's reply (or the target's, when forwarded); rejects
   * with an `OverloadError` when the queue is full (unless the behaviour has `handleOverloadCommand`),
   * a `VnodeStoppedError`, a `CommandDroppedError`, a `VnodeCallbackError`, or the `SolarOrbitError`
   * the behaviour threw.
   */
  command(request: Request): Promise<Reply> {
    const overload = this.#behaviour.handleOverloadCommand
    return this.#offer<Reply>(
      async (sender) => {
        if (this.#status === 'forwarding') {
          this.#pipe(this.#forwarder.command(this.#target!, request), sender)
        } else if (this.#status === 'handingOff') {
          const result = await this.#call('handleHandoffCommand', (state) =>
            this.#behaviour.handleHandoffCommand(request, sender, state),
          )
          if (!result.ok) return sender.fail(result.error)
          const value = result.value
          this.#state = value.state
          if (value.kind === 'reply') sender.reply(value.reply)
          else if (value.kind === 'forward') {
            this.#pipe(this.#forwarder.command(this.#target!, value.request ?? request), sender)
          } else if (value.kind === 'drop') sender.fail(new CommandDroppedError(this.partition))
        } else {
          const result = await this.#call('handleCommand', (state) =>
            this.#behaviour.handleCommand(request, sender, state),
          )
          await this.#settle(result, sender)
        }
      },
      overload &&
        (() => {
          try {
            return Promise.resolve(overload.call(this.#behaviour, request, this.partition))
          } catch (error) {
            return Promise.reject(this.#failure('handleOverloadCommand', error))
          }
        }),
    )
  }

  /**
   * Queues a coverage request (served locally while active or handing off, forwarded once forwarding).
   * Rejects as {@link command} does, with an `OverloadError` whenever the queue is full.
   */
  coverage(request: CoverageRequest, keyFilter?: KeyFilter): Promise<CoverageReply> {
    return this.#offer<CoverageReply>(async (sender) => {
      if (this.#status === 'forwarding') {
        this.#pipe(this.#forwarder.coverage(this.#target!, request, keyFilter), sender)
        return
      }
      const result = await this.#call('handleCoverage', (state) =>
        this.#behaviour.handleCoverage(request, keyFilter, sender, state),
      )
      await this.#settle(result, sender)
    })
  }

  /**
   * Queues one batch of an incoming transfer's items, like a command (it counts once in the queue and
   * is refused with an `OverloadError` when the queue is full, which the handoff sender treats as
   * backpressure). Rejects with the behaviour's error for a refused item, or a `VnodeStatusError`
   * once forwarding.
   */
  handoffData(items: readonly HandoffItem[]): Promise<void> {
    return this.#offer<undefined>(async (sender) => {
      if (this.#status === 'forwarding') {
        return sender.fail(
          new VnodeStatusError(this.partition, 'accept handoff data', this.#status),
        )
      }
      const result = await this.#call('handleHandoffData', (state) =>
        this.#behaviour.handleHandoffData(items, state),
      )
      if (!result.ok) return sender.fail(result.error)
      this.#state = result.value.state
      if (result.value.kind === 'error') sender.fail(result.value.error)
      else sender.reply(undefined)
    })
  }

  /**
   * Asks the behaviour whether a handoff to `target` may start, right after the callback in progress.
   * Rejects with a `VnodeStatusError` unless the vnode is active.
   */
  startHandoff(target: HandoffTarget): Promise<HandoffStartOutcome> {
    return this.#control('start a handoff', async () => {
      this.#expect('active', 'start a handoff')
      const result = await this.#call('handoffStarting', (state) =>
        this.#behaviour.handoffStarting(target, state),
      )
      if (!result.ok) throw result.error
      this.#state = result.value.state
      if (result.value.kind === 'veto') return { kind: 'vetoed', reason: result.value.reason }
      this.#target = target
      this.#setStatus('handingOff')
      return { kind: 'started' }
    })
  }

  /** Abandons the handoff in progress: the vnode is active again. Rejects unless handing off. */
  cancelHandoff(): Promise<void> {
    return this.#control('cancel a handoff', async () => {
      this.#expect('handingOff', 'cancel a handoff')
      const result = await this.#call('handoffCancelled', (state) =>
        this.#behaviour.handoffCancelled(state),
      )
      if (!result.ok) throw result.error
      this.#state = result.value
      this.#target = undefined
      this.#setStatus('active')
    })
  }

  /**
   * Completes the handoff in progress: `handoffFinished`, then `delete`, then every later request is
   * forwarded to the target. Rejects unless handing off; a failing callback leaves it handing off.
   */
  finishHandoff(): Promise<void> {
    return this.#control('finish a handoff', async () => {
      this.#expect('handingOff', 'finish a handoff')
      const target = this.#target!
      const finished = await this.#call('handoffFinished', (state) =>
        this.#behaviour.handoffFinished(target, state),
      )
      if (!finished.ok) throw finished.error
      this.#state = finished.value
      const deleted = await this.#call('delete', (state) => this.#behaviour.delete(state))
      if (!deleted.ok) throw deleted.error
      this.#state = deleted.value
      this.#setStatus('forwarding')
    })
  }

  /**
   * Streams the vnode's handoff items (its `fold`) to `visitor`, counting them, beside command
   * processing (it does not wait in the queue). Rejects with a `VnodeStatusError` unless active or
   * handing off, with what `visitor` threw, or with the behaviour's error.
   */
  async foldHandoff(visitor: FoldVisitor, options: VnodeFoldOptions = {}): Promise<FoldProgress> {
    if (this.#status !== 'active' && this.#status !== 'handingOff') {
      throw new VnodeStatusError(this.partition, 'fold', this.#status)
    }
    let items = 0
    let bytes = 0
    let cursor: Uint8Array | undefined
    let complete = true
    let visitorError: { error: unknown } | undefined
    const visited = (key: Uint8Array, value: Uint8Array, step: FoldStep): FoldStep => {
      items++
      bytes += key.length + value.length
      cursor = key
      if (step === 'stop') complete = false
      return step
    }
    const failed = (error: unknown): never => {
      visitorError = { error }
      throw error
    }
    // Synchronous when the visitor is, so an item costs no promise unless it must wait.
    const visit = (key: Uint8Array, value: Uint8Array): FoldStep | Promise<FoldStep> => {
      let step: FoldStep | Promise<FoldStep>
      try {
        step = visitor(key, value)
      } catch (error) {
        return failed(error)
      }
      if (step instanceof Promise) return step.then((s) => visited(key, value, s), failed)
      return visited(key, value, step)
    }
    try {
      await this.#behaviour.fold(visit, this.#state as State, options)
    } catch (error) {
      if (!visitorError) throw this.#failure('fold', error)
    }
    if (visitorError) throw visitorError.error
    return { items, bytes, cursor, complete }
  }

  /** Whether the vnode holds data and how much, asked between callbacks (ahead of queued commands). */
  isEmpty(): Promise<IsEmptyResult> {
    return this.#control('report its size', async () => {
      const result = await this.#call('isEmpty', (state) => this.#behaviour.isEmpty(state))
      if (!result.ok) throw result.error
      return result.value
    })
  }

  /**
   * Stops the vnode right after the callback in progress: queued requests are rejected with a
   * `VnodeStoppedError`, `terminate(reason)` runs, the storage backend is closed. Stopping a
   * stopped vnode does nothing.
   */
  async stop(reason: string): Promise<void> {
    if (this.#status === 'stopped') return
    await this.#control('stop', () => this.#shutDown(reason, true)).catch((error: unknown) => {
      if (!(error instanceof VnodeStoppedError)) throw error
    })
  }

  /** Queues a request job with a fresh sender; handles overload and the stopped status. */
  #offer<R>(
    run: (sender: VnodeSender<R>) => Promise<void>,
    overload?: () => Promise<R>,
  ): Promise<R> {
    if (this.#status === 'stopped') return Promise.reject(this.#stopped('stopped'))
    const { sender, promise } = makeSender<R>()
    const job: MailboxJob = {
      run: async () => {
        try {
          await run(sender)
        } catch (error) {
          sender.fail(this.#failure('host', error))
        }
      },
      cancel: () => sender.fail(this.#stopped('stopped')),
    }
    if (this.#mailbox.offer(job)) return promise
    return overload
      ? overload()
      : Promise.reject(new OverloadError(this.partition, this.#mailbox.capacity))
  }

  /** Queues a control job and resolves with what it returns. */
  #control<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (this.#status === 'stopped') return Promise.reject(this.#stopped('stopped'))
    return new Promise<T>((resolve, reject) => {
      this.#mailbox.control({
        run: () => run().then(resolve, reject),
        cancel: () => reject(this.#stopped(`stopped before it could ${operation}`)),
      })
    })
  }

  /** Runs one callback on the current state, turning a throw into a typed error. */
  async #call<T>(callback: string, fn: (state: State) => T | Promise<T>): Promise<Outcome<T>> {
    try {
      return { ok: true, value: await fn(this.#state as State) }
    } catch (error) {
      return { ok: false, error: this.#failure(callback, error) }
    }
  }

  /** Applies a command or coverage result. */
  async #settle<R>(
    result: Outcome<CommandResult<State, R>>,
    sender: VnodeSender<R>,
  ): Promise<void> {
    if (!result.ok) return sender.fail(result.error)
    const value = result.value
    this.#state = value.state
    if (value.kind === 'reply') sender.reply(value.reply)
    else if (value.kind === 'stop') {
      await this.#shutDown(value.reason, true)
      sender.fail(this.#stopped(value.reason))
    }
  }

  /** Enters `stopped`: rejects waiting jobs, terminates the behaviour (if it started) and closes storage. */
  async #shutDown(reason: string, terminate: boolean, cause?: unknown): Promise<void> {
    if (this.#status === 'stopped') return
    this.#status = 'stopped'
    this.#stoppedReason = { reason, cause }
    this.#mailbox.drain()
    if (terminate) {
      const result = await this.#call('terminate', (state) =>
        this.#behaviour.terminate(reason, state),
      )
      if (!result.ok)
        this.#log?.error('vnode %d: terminate failed: %o', this.partition, result.error)
    }
    try {
      await this.#backend?.close()
    } catch (error) {
      this.#bug('close storage', error)
    }
    this.#log?.('vnode %d stopped: %s', this.partition, reason)
    this.emit('vnode:changed', this.info())
  }

  #stopped(fallback: string): VnodeStoppedError {
    const why = this.#stoppedReason
    return new VnodeStoppedError(
      this.partition,
      why?.reason ?? fallback,
      why?.cause === undefined ? undefined : { cause: why.cause },
    )
  }

  /** Answers `sender` with the outcome of a forwarded request. */
  #pipe<R>(forwarded: Promise<R>, sender: VnodeSender<R>): void {
    forwarded.then(
      (reply) => sender.reply(reply),
      (error: unknown) => sender.fail(this.#failure('forward', error)),
    )
  }

  #expect(status: VnodeStatus, operation: string): void {
    if (this.#status !== status) throw new VnodeStatusError(this.partition, operation, this.#status)
  }

  #setStatus(status: VnodeStatus): void {
    this.#status = status
    this.#log?.('vnode %d is %s', this.partition, status)
    this.emit('vnode:changed', this.info())
  }

  /** A `SolarOrbitError` passes through; anything else is a bug, reported and wrapped. */
  #failure(callback: string, error: unknown): SolarOrbitError {
    if (error instanceof SolarOrbitError) return error
    this.#bug(callback, error)
    return new VnodeCallbackError(this.partition, callback, error)
  }

  #bug(callback: string, error: unknown): void {
    this.#log?.error('vnode %d: %s failed: %o', this.partition, callback, error)
    this.emit('vnode:error', { partition: this.partition, callback, error })
  }
}

/** A sender whose first answer settles `promise`; later answers are ignored. */
function makeSender<R>(): { sender: VnodeSender<R>; promise: Promise<R> } {
  let settled = false
  let resolve!: (reply: R) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<R>((res, rej) => {
    resolve = res
    reject = rej
  })
  const sender: VnodeSender<R> = {
    reply(reply) {
      if (settled) return
      settled = true
      resolve(reply)
    },
    fail(error) {
      if (settled) return
      settled = true
      reject(error)
    },
  }
  return { sender, promise }
}
