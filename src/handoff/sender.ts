/**
 * The sending side of one transfer attempt (riak_core_handoff_sender): folds the source vnode from
 * the checkpoint's cursor, packs the items into batches bounded in items and bytes, keeps at most
 * `windowBatches` batches in flight, and advances the checkpoint over the acknowledged prefix of
 * batches. A batch the receiver refuses as overloaded is sent again after a backoff, without ending
 * the attempt. Any other failure ends the attempt once nothing is in flight, leaving the checkpoint
 * at the last acknowledged batch, so the next attempt resumes there instead of restarting the fold
 * (riak_core restarted the whole fold after a timeout).
 */
import type { Scheduler } from '../core/index.ts'
import { copyBytes, DecodeError } from '../core/index.ts'
import { RemoteError, type Transport } from '../transport/index.ts'
import type {
  FoldProgress,
  FoldStep,
  FoldVisitor,
  HandoffItem,
  HandoffTarget,
  VnodeFoldOptions,
} from '../vnode/index.ts'
import { OverloadError } from '../vnode/index.ts'
import type { ProgressMeter } from './progress.ts'
import {
  decodeHandoffAck,
  encodeHandoffMessage,
  type HandoffAck,
  type HandoffMessage,
} from './protocol.ts'

/** Where a transfer stands between attempts. Owned by the scheduler, advanced by the sender. */
export interface Checkpoint {
  /** Key of the last item of the acknowledged prefix of batches: the next attempt folds after it. Undefined: from the start. */
  cursor: Uint8Array | undefined
  /** Seq of the next batch; it keeps increasing across attempts. */
  seq: number
}

/** How the sender batches and paces, resolved from `HandoffSchedulerInit`. */
export interface SenderSettings {
  readonly batchItemsMax: number
  readonly batchBytesMax: number
  readonly windowBatches: number
  readonly requestTimeoutMs: number
  readonly overloadBackoffMs: number
  readonly overloadBackoffMaxMs: number
}

/** What the sender reads from the source vnode: `VnodeHost.foldHandoff`. */
export interface FoldSource {
  foldHandoff(visitor: FoldVisitor, options?: VnodeFoldOptions): Promise<FoldProgress>
}

/** One attempt of one transfer. */
export interface TransferAttempt {
  readonly transport: Transport
  readonly protocol: string
  /** The wire id of the transfer, the same on every attempt. */
  readonly transferId: string
  readonly target: HandoffTarget
  readonly source: FoldSource
  readonly checkpoint: Checkpoint
  readonly meter: ProgressMeter
  readonly settings: SenderSettings
  /** Times the overload backoff. */
  readonly scheduler: Scheduler
  /** Aborting ends the attempt (in-flight requests are abandoned). */
  readonly signal: AbortSignal
  /** Called after the checkpoint advanced. */
  readonly onAck: () => void
}

/**
 * Runs one attempt: start, batches from the checkpoint, finish. Resolves once the receiver
 * acknowledged the finish; rejects with the first failure (a transport error, a `RemoteError` from
 * the receiver, a `DecodeError` for a bad ack, or the signal's reason) once no batch is in flight.
 */
export async function sendTransfer(attempt: TransferAttempt): Promise<void> {
  const controller = new AbortController()
  const abort = (): void => controller.abort(attempt.signal.reason)
  if (attempt.signal.aborted) abort()
  attempt.signal.addEventListener('abort', abort, { once: true })
  try {
    const { transferId, target } = attempt
    await exchange(attempt, controller.signal, {
      kind: 'start',
      transferId,
      partition: target.partition,
      type: target.type,
      from: attempt.transport.self,
    })
    const batches = new BatchWindow(attempt, controller)
    const { batchItemsMax, batchBytesMax } = attempt.settings
    let items: HandoffItem[] = []
    let bytes = 0
    let last: Uint8Array | undefined
    const flush = async (): Promise<void> => {
      const batch = items
      const batchBytes = bytes
      items = []
      bytes = 0
      await batches.send(batch, batchBytes, copyBytes(last!))
    }
    // Synchronous unless a batch is full, so most items cost no promise.
    const add = (key: Uint8Array, value: Uint8Array): FoldStep | Promise<FoldStep> => {
      items.push({ key, value })
      bytes += key.length + value.length
      last = key
      return items.length >= batchItemsMax ? flush().then(() => 'continue') : 'continue'
    }
    try {
      await attempt.source.foldHandoff(
        (key, value) =>
          items.length > 0 && bytes + key.length + value.length > batchBytesMax
            ? flush().then(() => add(key, value))
            : add(key, value),
        { after: attempt.checkpoint.cursor },
      )
      if (items.length > 0) await flush()
    } catch (error) {
      batches.fail(error)
    }
    await batches.drain()
    await exchange(attempt, controller.signal, { kind: 'finish', transferId })
  } finally {
    attempt.signal.removeEventListener('abort', abort)
  }
}

/** A batch put on the wire, in seq order. */
interface Sent {
  readonly seq: number
  /** Key of its last item. */
  readonly cursor: Uint8Array
  readonly items: number
  readonly bytes: number
  acked: boolean
}

/** The batches in flight of one attempt, and the acknowledged prefix. */
class BatchWindow {
  readonly #attempt: TransferAttempt
  readonly #controller: AbortController
  readonly #sent: Sent[] = []
  #inFlight = 0
  #failure: { error: unknown } | undefined
  #wake: (() => void) | undefined

  constructor(attempt: TransferAttempt, controller: AbortController) {
    this.#attempt = attempt
    this.#controller = controller
  }

  /** Sends a batch once fewer than `windowBatches` are in flight; throws the attempt's failure, if any. */
  async send(items: HandoffItem[], bytes: number, cursor: Uint8Array): Promise<void> {
    const { checkpoint, meter, settings } = this.#attempt
    while (this.#failure === undefined && this.#inFlight >= settings.windowBatches) {
      await this.#settled()
    }
    if (this.#failure) throw this.#failure.error
    const entry: Sent = { seq: checkpoint.seq++, cursor, items: items.length, bytes, acked: false }
    this.#sent.push(entry)
    this.#inFlight++
    meter.sent(items.length, bytes)
    this.#deliver(entry.seq, items)
      .then(
        () => {
          entry.acked = true
          this.#advance()
        },
        (error: unknown) => this.fail(error),
      )
      .finally(() => {
        this.#inFlight--
        this.#wake?.()
      })
  }

  /** Records the attempt's failure (the first one counts) and abandons the requests in flight. */
  fail(error: unknown): void {
    if (this.#failure) return
    this.#failure = { error }
    this.#controller.abort(error)
  }

  /** Waits until nothing is in flight; throws the attempt's failure, if any. */
  async drain(): Promise<void> {
    while (this.#inFlight > 0) await this.#settled()
    if (this.#failure) throw this.#failure.error
  }

  /** Resolves when a batch in flight settles. */
  #settled(): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.#wake
      this.#wake = () => {
        this.#wake = undefined
        previous?.()
        resolve()
      }
    })
  }

  /** Moves the checkpoint over the acknowledged prefix. */
  #advance(): void {
    const { checkpoint, meter } = this.#attempt
    let moved = false
    while (this.#sent[0]?.acked) {
      const entry = this.#sent.shift()!
      checkpoint.cursor = entry.cursor
      meter.acknowledged(entry.items, entry.bytes)
      moved = true
    }
    if (moved) this.#attempt.onAck()
  }

  /** Sends one batch until acknowledged, backing off while the receiver is overloaded. */
  async #deliver(seq: number, items: readonly HandoffItem[]): Promise<void> {
    const attempt = this.#attempt
    const { overloadBackoffMs, overloadBackoffMaxMs } = attempt.settings
    const signal = this.#controller.signal
    const message: HandoffMessage = { kind: 'batch', transferId: attempt.transferId, seq, items }
    for (let backoffMs = overloadBackoffMs; ; ) {
      try {
        const ack = await exchange(attempt, signal, message)
        if (ack.kind !== 'batch' || ack.seq !== seq || ack.items !== items.length) {
          throw new DecodeError(`handoff ack does not match batch ${seq}`)
        }
        return
      } catch (error) {
        if (!isOverload(error) || signal.aborted) throw error
      }
      await sleep(attempt.scheduler, backoffMs, signal)
      backoffMs = Math.min(backoffMs * 2, overloadBackoffMaxMs)
    }
  }
}

/** Sends `message` to the target and resolves with its ack, checked against the message. */
async function exchange(
  attempt: TransferAttempt,
  signal: AbortSignal,
  message: HandoffMessage,
): Promise<HandoffAck> {
  const response = await attempt.transport.request(
    attempt.target.member,
    attempt.protocol,
    encodeHandoffMessage(message),
    { timeoutMs: attempt.settings.requestTimeoutMs, signal },
  )
  const ack = decodeHandoffAck(response)
  if (ack.kind !== message.kind || ack.transferId !== message.transferId) {
    throw new DecodeError(`handoff ack of ${ack.kind} ${ack.transferId} answers ${message.kind}`)
  }
  return ack
}

/** Whether the receiving vnode refused a batch because its queue was full. */
function isOverload(error: unknown): boolean {
  return error instanceof RemoteError && error.remoteCode === OverloadError.code
}

/** Resolves after `ms` on `scheduler`; rejects with the signal's reason when it aborts first. */
function sleep(scheduler: Scheduler, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = (): void => {
      cancel()
      reject(signal.reason)
    }
    const cancel = scheduler.schedule(ms, () => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    })
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
