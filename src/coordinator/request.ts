/**
 * What every coordinated request shares: the node's view of the cluster and its ports, and the
 * per-request options (quorum overrides, timeout, cancellation).
 */
import type { Clock, Scheduler } from '../core/index.ts'
import type { MemberId, PreflistEntry } from '../ring/index.ts'
import type { BucketProps } from './bucket-props.ts'
import { QuorumError, type QuorumNeed } from './errors.ts'
import type { Gathered } from './fanout.ts'
import type { VnodeClient } from './vnode-client.ts'

/** A debug logger; `@libp2p/logger`'s `Logger` fits. */
export interface CoordinatorLogger {
  (formatter: string, ...args: unknown[]): void
  error(formatter: string, ...args: unknown[]): void
}

/** The ports and views a coordinator runs on. */
export interface CoordinatorContext {
  /** This node's member id: a put is coordinated on its own vnode when it holds a replica. */
  readonly self: MemberId
  /** Sends vnode requests. */
  readonly client: VnodeClient
  /** Measures how much of a request's timeout is left. */
  readonly clock: Clock
  /** Arms deadlines. */
  readonly scheduler: Scheduler
  /** Receives failures that happen after a request was answered (late replication). */
  readonly log: CoordinatorLogger | undefined
}

/** Options every coordinated request takes: quorum overrides of the bucket's settings, a timeout, a signal. */
export interface CoordinatorOptions extends Partial<BucketProps> {
  /** The whole request must finish within this many ms. Default: the coordinator's `timeoutMs`. */
  readonly timeoutMs?: number
  /** Aborting rejects the request with the signal's reason and abandons the replicas' answers. */
  readonly signal?: AbortSignal
}

/** A request ready to run: its preflist, its resolved settings, and its deadline. */
export interface PlannedRequest {
  /** The key's preflist: primaries, and fallbacks for down owners. */
  readonly entries: readonly PreflistEntry[]
  /** The bucket's settings with the request's overrides, validated. */
  readonly props: BucketProps
  /** The request's timeout, in ms; read repair after it gets as long again. */
  readonly timeoutMs: number
  /** Clock time at which the request gives up. */
  readonly deadlineMs: number
  /** The caller's signal, if any. */
  readonly signal: AbortSignal | undefined
}

/** Ms left until the request's deadline (at least 1, so a request is always tried). */
export function remainingMs(context: CoordinatorContext, request: PlannedRequest): number {
  return Math.max(1, request.deadlineMs - context.clock.now())
}

/** The {@link QuorumError} of `operation` for what `gathered` holds. */
export function quorumError<T>(
  operation: string,
  need: QuorumNeed,
  gathered: Gathered<T>,
): QuorumError {
  const answered = gathered.answers.length
  const primaries = gathered.answers.filter((a) => a.entry.kind === 'primary').length
  return new QuorumError(operation, need, answered, primaries, gathered.asked, gathered.failures)
}
