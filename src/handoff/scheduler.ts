/**
 * The transfer scheduler of one node (riak_core_handoff_manager): runs the transfers the node wants
 * (ownership transfers of a committed plan, hinted handoffs of fallback data) with a per-node
 * concurrency limit, retries failed attempts with exponential backoff from the cursor of the last
 * acknowledged batch, and reports progress. Every waiting transfer carries the reason it waits.
 *
 * Lifecycle of one transfer: waiting → (target up, reachable, a slot free) → the source vnode is
 * asked to start the handoff (right away, never waiting for it to be idle; it may veto) → batches
 * (see `sender.ts`) → finish → `VnodeHost.finishHandoff()` (the vnode deletes its data and forwards
 * from then on) → the completion callback → the vnode is stopped `forwardingLingerMs` later.
 *
 * Resumption: between attempts the source vnode stays handing off, so every write it takes is
 * applied locally and forwarded to the target; the cursor therefore stays valid and a retry resumes
 * after it. The vnode is released (handoff cancelled, cursor dropped, the next attempt starts from
 * the first item) only when the target is marked down or the transfer is no longer wanted. The
 * cursor lives in this scheduler's memory: a restarted node starts its transfers over, which is safe
 * because the receiver applies by merge, and costs one write per batch less than persisting it.
 */
import type { Cancel, Clock, Random, Scheduler } from '../core/index.ts'
import { InvalidArgumentError, SolarOrbitError } from '../core/index.ts'
import {
  type PeerId,
  RemoteError,
  TimeoutError,
  type Transport,
  TypedEventEmitter,
  UnreachableError,
  UnsupportedProtocolError,
} from '../transport/index.ts'
import type {
  HandoffStartOutcome,
  HandoffTarget,
  IsEmptyResult,
  VnodeInfo,
  VnodeLogger,
  VnodeStatus,
} from '../vnode/index.ts'
import { HandoffRefusedError, TransferAbandonedError, UnknownTransferError } from './errors.ts'
import type {
  CompletedTransfer,
  HandoffEvents,
  HandoffStatus,
  TransferRef,
  TransferStatus,
} from './events.ts'
import { ProgressMeter } from './progress.ts'
import { handoffProtocol } from './protocol.ts'
import { type Checkpoint, type FoldSource, type SenderSettings, sendTransfer } from './sender.ts'

/** What the scheduler needs of a source vnode: `VnodeHost` fits. */
export interface HandoffVnode extends FoldSource {
  /** Resolves once the vnode started. */
  started(): Promise<void>
  /** `handingOff` while a started handoff holds it; `forwarding` once it finished. */
  readonly status: VnodeStatus
  /** The handoff target while handing off or forwarding. */
  info(): VnodeInfo
  /** The vnode's size: the total of the progress figures and the ETA. */
  isEmpty(): Promise<IsEmptyResult>
  /** Asks the behaviour to start handing off to `target` (ahead of queued commands); it may veto. */
  startHandoff(target: HandoffTarget): Promise<HandoffStartOutcome>
  /** Makes the vnode active again. */
  cancelHandoff(): Promise<void>
  /** `handoffFinished`, `delete`, then forwarding. */
  finishHandoff(): Promise<void>
  /** Stops the vnode (after the forwarding linger). */
  stop(reason: string): Promise<void>
}

/** Where the scheduler finds the vnode of a partition, starting it if needed: `VnodeManager` fits. */
export interface HandoffVnodes {
  vnode(partition: number): HandoffVnode
}

/** Dependencies of a {@link HandoffScheduler}. */
export interface HandoffSchedulerComponents {
  /** Carries the handoff protocol; its `peers()` and `peer:connect` tell whether a target is reachable. */
  readonly transport: Transport
  /** The vnodes of the service whose data is handed off. */
  readonly vnodes: HandoffVnodes
  /** Times rates, ETAs and retry deadlines. */
  readonly clock: Clock
  /** Times retries, overload backoff and the forwarding linger. */
  readonly scheduler: Scheduler
  /** Draws transfer id nonces, so a restarted node never reuses a wire id. Must not replay across restarts. */
  readonly random: Random
}

/** A transfer the node wants run: a {@link HandoffTarget}, with the target's liveness. */
export interface PlannedTransfer extends HandoffTarget {
  /**
   * The target is marked down in the cluster state: the transfer waits (reason `target down`), and a
   * handoff already started is cancelled so the source vnode serves writes alone again. Default false.
   */
  readonly targetDown?: boolean
}

/** Options of a {@link HandoffScheduler}; every field but `cluster` has a default. */
export interface HandoffSchedulerInit {
  /** The cluster name, part of the protocol id. Required. */
  readonly cluster: string
  /** Transfers running at once on this node. Default 2. */
  readonly concurrency?: number
  /** Most items in one batch. Default 500. */
  readonly batchItemsMax?: number
  /** Most item bytes in one batch (a larger single item travels alone). Default 1 MiB. */
  readonly batchBytesMax?: number
  /** Batches of one transfer in flight at once (pipelining; 1 is stop-and-wait). Default 2. */
  readonly windowBatches?: number
  /** Timeout of each start, batch and finish request, in ms. Default 30,000. */
  readonly requestTimeoutMs?: number
  /** Delay before retrying a failed attempt, doubled per consecutive failure, in ms. Default 1000. */
  readonly retryBaseMs?: number
  /** Longest retry delay, in ms. Default 60,000. */
  readonly retryMaxMs?: number
  /** First wait before resending a batch the receiver refused as overloaded, doubled per refusal, in ms. Default 50. */
  readonly overloadBackoffMs?: number
  /** Longest overload wait, in ms. Default 5000. */
  readonly overloadBackoffMaxMs?: number
  /** Delay before asking a vnode that vetoed a handoff again, in ms. Default 5000. */
  readonly vetoRetryMs?: number
  /** Least time between two `'handoff:progress'` events of one transfer, in ms. Default 1000. */
  readonly progressIntervalMs?: number
  /**
   * How long a vnode that handed everything off keeps forwarding requests (sent on an older ring)
   * before it is stopped, in ms. A stopped fallback restarts fresh if it is needed again. Default 30,000.
   */
  readonly forwardingLingerMs?: number
  /**
   * Called once the target holds every item and the source vnode finished the handoff. The node wires
   * it to `completeTransfer` on the cluster state for ownership transfers. If it throws or rejects,
   * the attempt counts as failed and the next attempt only calls it again. Default: none.
   */
  readonly onComplete?: (transfer: CompletedTransfer) => void | Promise<void>
  /** Debug logger (`@libp2p/logger`'s fits). Default: none. */
  readonly log?: VnodeLogger
}

/** A waiting transfer's retry timer. */
interface Retry {
  readonly atMs: number
  /** The waiting reason, given the seconds left. */
  readonly reason: (inSeconds: number) => string
  readonly cancel: Cancel
}

/** One transfer and everything kept about it across attempts. */
interface Transfer {
  readonly ref: TransferRef
  readonly target: HandoffTarget
  readonly transferId: string
  targetDown: boolean
  /** The attempt in progress. */
  running: AbortController | undefined
  /** The vnode this transfer put in the handing-off state (the cursor is valid while it stays so). */
  holding: HandoffVnode | undefined
  checkpoint: Checkpoint
  readonly meter: ProgressMeter
  attempts: number
  /** Consecutive failed attempts, for the backoff; reset by progress. */
  failures: number
  retry: Retry | undefined
  lastProgressMs: number | undefined
}

/**
 * Runs this node's handoffs; see the module comment. Listens for the transport's `peer:connect`
 * (to start transfers waiting for an unreachable target) from construction until {@link stop}.
 */
export class HandoffScheduler extends TypedEventEmitter<HandoffEvents> {
  readonly #components: HandoffSchedulerComponents
  readonly #settings: SenderSettings
  readonly #concurrency: number
  readonly #retryBaseMs: number
  readonly #retryMaxMs: number
  readonly #vetoRetryMs: number
  readonly #progressIntervalMs: number
  readonly #forwardingLingerMs: number
  readonly #onComplete: HandoffSchedulerInit['onComplete']
  readonly #log: VnodeLogger | undefined
  readonly #protocol: string
  readonly #transfers = new Map<string, Transfer>()
  readonly #runs = new Set<Promise<void>>()
  readonly #lingering = new Set<Cancel>()
  readonly #onConnect = (): void => this.#pump()
  #stopped = false

  constructor(components: HandoffSchedulerComponents, init: HandoffSchedulerInit) {
    super()
    this.#components = components
    this.#protocol = handoffProtocol(init.cluster)
    this.#concurrency = count(init.concurrency ?? 2, 'concurrency', 1)
    this.#settings = {
      batchItemsMax: count(init.batchItemsMax ?? 500, 'batchItemsMax', 1),
      batchBytesMax: count(init.batchBytesMax ?? 1024 * 1024, 'batchBytesMax', 1),
      windowBatches: count(init.windowBatches ?? 2, 'windowBatches', 1),
      requestTimeoutMs: count(init.requestTimeoutMs ?? 30_000, 'requestTimeoutMs', 1),
      overloadBackoffMs: count(init.overloadBackoffMs ?? 50, 'overloadBackoffMs', 1),
      overloadBackoffMaxMs: count(init.overloadBackoffMaxMs ?? 5000, 'overloadBackoffMaxMs', 1),
    }
    this.#retryBaseMs = count(init.retryBaseMs ?? 1000, 'retryBaseMs', 1)
    this.#retryMaxMs = count(init.retryMaxMs ?? 60_000, 'retryMaxMs', 1)
    this.#vetoRetryMs = count(init.vetoRetryMs ?? 5000, 'vetoRetryMs', 1)
    this.#progressIntervalMs = count(init.progressIntervalMs ?? 1000, 'progressIntervalMs', 0)
    this.#forwardingLingerMs = count(init.forwardingLingerMs ?? 30_000, 'forwardingLingerMs', 0)
    this.#onComplete = init.onComplete
    this.#log = init.log
    components.transport.addEventListener('peer:connect', this.#onConnect)
  }

  /**
   * Sets the transfers this node wants run, replacing the previous set (call it on every cluster
   * state change, e.g. with `plannedTransfers`). New ones wait for their turn; ones no longer listed
   * are abandoned (a started handoff is cancelled); a target newly marked down releases its vnode.
   * After {@link stop} it does nothing.
   */
  update(planned: readonly PlannedTransfer[]): void {
    if (this.#stopped) return
    const wanted = new Map(planned.map((p) => [transferKey(p), p]))
    for (const [id, transfer] of this.#transfers) {
      if (wanted.has(id)) continue
      this.#transfers.delete(id)
      this.#release(transfer, 'no longer planned')
    }
    for (const [id, p] of wanted) {
      let transfer = this.#transfers.get(id)
      if (!transfer) {
        transfer = this.#create(id, p)
        this.#transfers.set(id, transfer)
      }
      const down = p.targetDown ?? false
      if (down && !transfer.targetDown) this.#release(transfer, 'target down')
      transfer.targetDown = down
    }
    this.#pump()
  }

  /** Every transfer, running and waiting, with the reason each waiting one waits. */
  status(): HandoffStatus {
    const running: TransferStatus[] = []
    const waiting: TransferStatus[] = []
    const runningCount = this.#runningCount()
    for (const t of this.#transfers.values()) {
      const line = {
        ...t.ref,
        attempts: t.attempts,
        progress: t.meter.figures(),
      }
      if (t.running) running.push({ ...line, state: 'running', reason: undefined })
      else waiting.push({ ...line, state: 'waiting', reason: this.#blocker(t, runningCount) })
    }
    return { running, waiting }
  }

  /**
   * Stops scheduling: running attempts are abandoned and their handoffs cancelled, retry and linger
   * timers are cleared. Resolves once every attempt has ended. Later {@link update}s do nothing.
   */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#components.transport.removeEventListener('peer:connect', this.#onConnect)
    for (const transfer of this.#transfers.values()) this.#release(transfer, 'scheduler stopped')
    this.#transfers.clear()
    for (const cancel of this.#lingering) cancel()
    this.#lingering.clear()
    await Promise.allSettled([...this.#runs])
  }

  #create(id: string, target: HandoffTarget): Transfer {
    const { transport, random, clock } = this.#components
    const nonce = `${random.nextU32().toString(16)}${random.nextU32().toString(16)}`
    return {
      ref: {
        id,
        type: target.type,
        partition: target.partition,
        from: transport.self,
        to: target.member,
      },
      target: { type: target.type, partition: target.partition, member: target.member },
      transferId: `${id}/${nonce}`,
      targetDown: false,
      running: undefined,
      holding: undefined,
      checkpoint: { cursor: undefined, seq: 0 },
      meter: new ProgressMeter(clock),
      attempts: 0,
      failures: 0,
      retry: undefined,
      lastProgressMs: undefined,
    }
  }

  /** Why `t` cannot start now, or undefined when it can. */
  #blocker(t: Transfer, runningCount: number): string | undefined {
    if (t.targetDown) return 'target down'
    if (t.retry) {
      const leftMs = Math.round(t.retry.atMs - this.#components.clock.now())
      const seconds = Math.max(0, Math.ceil(leftMs / 1000))
      return t.retry.reason(seconds)
    }
    if (!this.#reachable(t.target.member)) return 'target unreachable'
    if (runningCount >= this.#concurrency) return `concurrency limit (${runningCount} running)`
    return undefined
  }

  #reachable(member: PeerId): boolean {
    const { transport } = this.#components
    return transport.isStarted() && transport.peers().includes(member)
  }

  #runningCount(): number {
    let n = 0
    for (const t of this.#transfers.values()) if (t.running) n++
    return n
  }

  /** Starts every waiting transfer that may start now, in the order they were planned. */
  #pump(): void {
    if (this.#stopped) return
    let runningCount = this.#runningCount()
    for (const t of this.#transfers.values()) {
      if (t.running || this.#blocker(t, runningCount) !== undefined) continue
      runningCount++
      const controller = new AbortController()
      t.running = controller
      t.attempts++
      const run = this.#run(t, controller.signal)
      this.#runs.add(run)
      void run.finally(() => this.#runs.delete(run))
    }
  }

  /** One attempt of `t`. Never rejects. */
  async #run(t: Transfer, signal: AbortSignal): Promise<void> {
    const vnode = this.#components.vnodes.vnode(t.target.partition)
    try {
      await vnode.started()
      signal.throwIfAborted()
      if (vnode.status === 'forwarding' && sameTarget(vnode.info().handoffTarget, t.target)) {
        // Handed off already (an earlier completion callback failed): only report it again.
        await this.#complete(t, vnode)
        return
      }
      if (t.holding !== vnode || vnode.status !== 'handingOff') {
        if (t.holding) this.#forgetCursor(t)
        const { size } = await vnode.isEmpty()
        const outcome = await vnode.startHandoff(t.target)
        if (outcome.kind === 'vetoed') {
          this.#retryLater(t, this.#vetoRetryMs, (s) => {
            return `vetoed by vnode: ${outcome.reason}; retrying in ${s}s`
          })
          return
        }
        t.holding = vnode
        signal.throwIfAborted()
        t.meter.resume(size)
      } else {
        t.meter.resume(undefined)
      }
      this.emit('handoff:started', {
        ...t.ref,
        attempt: t.attempts,
        resumed: t.checkpoint.cursor !== undefined,
        progress: t.meter.figures(),
      })
      await sendTransfer({
        transport: this.#components.transport,
        protocol: this.#protocol,
        transferId: t.transferId,
        target: t.target,
        source: vnode,
        checkpoint: t.checkpoint,
        meter: t.meter,
        settings: this.#settings,
        scheduler: this.#components.scheduler,
        signal,
        onAck: () => this.#acknowledged(t),
      })
      t.meter.pause()
      signal.throwIfAborted()
      await vnode.finishHandoff()
      t.holding = undefined
      await this.#complete(t, vnode)
    } catch (error) {
      t.meter.pause()
      if (!signal.aborted) this.#failed(t, error)
    } finally {
      t.running = undefined
      if (signal.aborted) this.#cancelHandoff(t)
      this.#pump()
    }
  }

  /** Reports `t` complete, forgets it and stops the vnode after the linger. */
  async #complete(t: Transfer, vnode: HandoffVnode): Promise<void> {
    const { type, partition, from, to } = t.ref
    await this.#onComplete?.({ type, partition, from, to })
    if (this.#transfers.get(t.ref.id) === t) this.#transfers.delete(t.ref.id)
    this.emit('handoff:finished', { ...t.ref, attempt: t.attempts, progress: t.meter.figures() })
    this.#log?.('handoff %s finished', t.ref.id)
    const cancel = this.#components.scheduler.schedule(this.#forwardingLingerMs, () => {
      this.#lingering.delete(cancel)
      vnode.stop('handed off').catch((error: unknown) => {
        this.#log?.error('stopping vnode %d after handoff failed: %o', t.ref.partition, error)
      })
    })
    this.#lingering.add(cancel)
  }

  #acknowledged(t: Transfer): void {
    t.failures = 0
    const now = this.#components.clock.now()
    if (t.lastProgressMs !== undefined && now - t.lastProgressMs < this.#progressIntervalMs) return
    t.lastProgressMs = now
    this.emit('handoff:progress', { ...t.ref, attempt: t.attempts, progress: t.meter.figures() })
  }

  #failed(t: Transfer, error: unknown): void {
    const cause = describe(error)
    if (cause === 'internal error') this.#log?.error('handoff %s failed: %o', t.ref.id, error)
    else this.#log?.('handoff %s failed: %s', t.ref.id, cause)
    t.failures++
    const delayMs = Math.min(this.#retryBaseMs * 2 ** (t.failures - 1), this.#retryMaxMs)
    this.#retryLater(t, delayMs, (s) => `retrying after ${cause} in ${s}s`)
    this.emit('handoff:failed', {
      ...t.ref,
      attempt: t.attempts,
      error,
      cause,
      retryInMs: delayMs,
      progress: t.meter.figures(),
    })
  }

  #retryLater(t: Transfer, delayMs: number, reason: Retry['reason']): void {
    const cancel = this.#components.scheduler.schedule(delayMs, () => {
      if (t.retry?.cancel !== cancel) return
      t.retry = undefined
      this.#pump()
    })
    t.retry = { atMs: this.#components.clock.now() + delayMs, reason, cancel }
  }

  /** Abandons `t`'s attempt (which then cancels the handoff) or, when waiting, cancels it now. */
  #release(t: Transfer, why: string): void {
    t.retry?.cancel()
    t.retry = undefined
    if (t.running) t.running.abort(new TransferAbandonedError(why))
    else this.#cancelHandoff(t)
  }

  /** Cancels the handoff `t` started, if any: the vnode is active again and the cursor is void. */
  #cancelHandoff(t: Transfer): void {
    const vnode = t.holding
    if (!vnode) return
    this.#forgetCursor(t)
    vnode.cancelHandoff().catch((error: unknown) => {
      this.#log?.('cancelling handoff %s: %o', t.ref.id, error)
    })
  }

  /** The next attempt starts from the first item (seqs keep increasing, so none is reused). */
  #forgetCursor(t: Transfer): void {
    t.holding = undefined
    t.checkpoint = { cursor: undefined, seq: t.checkpoint.seq }
    t.meter.reset()
  }
}

/** The key of a transfer: one per type, partition and target. */
function transferKey(target: HandoffTarget): string {
  return `${target.type}/${target.partition}/${target.member}`
}

function sameTarget(a: HandoffTarget | undefined, b: HandoffTarget): boolean {
  return a?.type === b.type && a.partition === b.partition && a.member === b.member
}

/** A failure in the words of a waiting reason. */
function describe(error: unknown): string {
  if (error instanceof TimeoutError) return 'timeout'
  if (error instanceof UnreachableError) return 'target unreachable'
  if (error instanceof UnsupportedProtocolError) return 'target does not serve handoff'
  if (error instanceof RemoteError) {
    if (error.remoteCode === HandoffRefusedError.code) return 'refused by target'
    if (error.remoteCode === UnknownTransferError.code) return 'target lost the session'
    return `target error ${error.remoteCode}`
  }
  if (error instanceof SolarOrbitError) return error.code
  return 'internal error'
}

function count(value: number, name: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${value}`)
  }
  return value
}
