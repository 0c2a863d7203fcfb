/**
 * What the handoff scheduler tells operators: typed events (`'handoff:started'`, `'handoff:progress'`,
 * `'handoff:finished'`, `'handoff:failed'`) and a status listing every running and waiting transfer,
 * each waiting one with the reason it waits (riak_core's transfers could sit stuck for weeks with no
 * reason shown).
 */
import type { MemberId } from '../ring/index.ts'
import type { HandoffTarget } from '../vnode/index.ts'
import type { ProgressFigures } from './progress.ts'

/** Which transfer an event or status line is about. */
export interface TransferRef {
  /** `type/partition/to`: the same for every attempt of one transfer. */
  readonly id: string
  readonly type: HandoffTarget['type']
  readonly partition: number
  /** This node. */
  readonly from: MemberId
  /** The target member. */
  readonly to: MemberId
}

/** Detail of `'handoff:started'`: an attempt began (the first, or a retry resuming from the cursor). */
export interface TransferStarted extends TransferRef {
  /** 1 for the first attempt. */
  readonly attempt: number
  /** True when this attempt continues after a cursor rather than from the first item. */
  readonly resumed: boolean
  readonly progress: ProgressFigures
}

/** Detail of `'handoff:progress'` and `'handoff:finished'`. */
export interface TransferProgress extends TransferRef {
  readonly attempt: number
  readonly progress: ProgressFigures
}

/** Detail of `'handoff:failed'`: an attempt failed; the transfer waits and retries. */
export interface TransferFailed extends TransferRef {
  readonly attempt: number
  /** What the attempt failed with. */
  readonly error: unknown
  /** The cause in words, as the waiting reason shows it (`timeout`, `target unreachable`, ...). */
  readonly cause: string
  /** When the next attempt may start, in ms from now. */
  readonly retryInMs: number
  readonly progress: ProgressFigures
}

/** Events of a `HandoffScheduler`. */
export interface HandoffEvents {
  'handoff:started': TransferStarted
  /** An acknowledged batch moved the cursor (at most once per `progressIntervalMs`; the last figures come with `'handoff:finished'`). */
  'handoff:progress': TransferProgress
  /** The target holds every item, the source vnode finished the handoff and the completion was reported. */
  'handoff:finished': TransferProgress
  'handoff:failed': TransferFailed
}

/** One line of `HandoffScheduler.status()`. */
export interface TransferStatus extends TransferRef {
  /** `running`: an attempt is in progress. `waiting`: see {@link reason}. */
  readonly state: 'running' | 'waiting'
  /**
   * Why a waiting transfer waits, e.g. `concurrency limit (2 running)`, `target down`,
   * `target unreachable`, `vetoed by vnode: <reason>; retrying in 5s`, `retrying after timeout in 3s`.
   * Undefined while running.
   */
  readonly reason: string | undefined
  /** Attempts started so far. */
  readonly attempts: number
  readonly progress: ProgressFigures
}

/** What `HandoffScheduler.status()` returns. */
export interface HandoffStatus {
  readonly running: readonly TransferStatus[]
  readonly waiting: readonly TransferStatus[]
}

/** A transfer whose data the target holds, as the completion callback receives it. */
export interface CompletedTransfer {
  readonly type: HandoffTarget['type']
  readonly partition: number
  readonly from: MemberId
  readonly to: MemberId
}
