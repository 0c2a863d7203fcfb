/**
 * The put and delete coordinator (riak_kv_put_fsm): the write is applied on ONE vnode first (this node's
 * own replica when it holds one, else the first primary, else the first fallback), which gives it a new
 * dot of that vnode's actor; the resulting object is then merged into the other replicas in parallel,
 * which only acknowledge (no `returnBody`: riak's replica puts do not send the object back). So one
 * write makes one dot, however many replicas store it. The put answers once W replicas (the
 * coordinating one included; PW of them primaries; with DW above 0, max(W, DW) durable ones)
 * acknowledged. A delete is the same write with a tombstone.
 */
import type { VersionVector } from '../clock/index.ts'
import {
  contextOf,
  type KvMergedReply,
  type KvObject,
  type KvWriteReply,
  liveValues,
} from '../kv/index.ts'
import type { KeyPart, PreflistEntry } from '../ring/index.ts'
import type { QuorumNeed } from './errors.ts'
import { type Answer, fanOut, type Gathered } from './fanout.ts'
import type { ReplicaAnswer, ReplicaFailure } from './replica.ts'
import { replicaFailure } from './replica.ts'
import {
  type CoordinatorContext,
  type PlannedRequest,
  quorumError,
  remainingMs,
} from './request.ts'

/** What a put or delete writes: a value (put) or a tombstone (delete), with the context it follows. */
export type WriteProposal =
  | { readonly type: 'put'; readonly value: Uint8Array; readonly context?: VersionVector }
  | { readonly type: 'delete'; readonly context?: VersionVector }

/** What a put's replicas answer: the coordinating vnode its object, the others an acknowledgement. */
type Ack = KvWriteReply | KvMergedReply

/** What a put or delete returns. */
export interface PutResult {
  /** The object as the coordinating vnode stored it (the write, and any concurrent siblings it kept). */
  readonly object: KvObject
  /** Its live values: the written value plus concurrent siblings; none after a delete without siblings. */
  readonly values: readonly Uint8Array[]
  /** The context for the next write of the key. */
  readonly context: VersionVector
  /** The replica that applied the write first and gave it its dot. */
  readonly coordinator: PreflistEntry
  /** Replicas that acknowledged before the put returned (the coordinator first). */
  readonly answered: readonly ReplicaAnswer[]
  /** Replicas that failed before the put returned. */
  readonly failures: readonly ReplicaFailure[]
}

/**
 * Writes `proposal` to `key` in `bucket` over `request`'s preflist. Rejects with `QuorumError` when the
 * preflist cannot meet W/PW/DW (nothing is written then), when the coordinating vnode fails, or when too
 * few replicas acknowledge.
 */
export async function coordinatePut(
  context: CoordinatorContext,
  bucket: KeyPart,
  key: KeyPart,
  proposal: WriteProposal,
  request: PlannedRequest,
): Promise<PutResult> {
  const { w, pw, dw } = request.props
  const need: QuorumNeed = { answers: Math.max(w, dw), primaries: pw }
  const durable = dw > 0
  const operation = proposal.type
  const entries = request.entries
  const primaryCount = entries.filter((e) => e.kind === 'primary').length
  if (entries.length < need.answers || primaryCount < need.primaries) {
    throw quorumError(operation, need, { answers: [], failures: [], asked: entries.length })
  }
  const coordinator =
    entries.find((e) => e.member === context.self) ??
    entries.find((e) => e.kind === 'primary') ??
    entries[0]!
  let written: KvWriteReply
  try {
    written = await context.client.command(
      coordinator.member,
      coordinator.partition,
      { ...proposal, bucket, key, durable },
      { timeoutMs: remainingMs(context, request), signal: request.signal },
    )
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason
    const failures = [replicaFailure(coordinator, error)]
    throw quorumError(operation, need, { answers: [], failures, asked: entries.length })
  }
  const object = written.object
  const fan = fanOut<Ack>({
    entries: entries.filter((e) => e !== coordinator),
    answered: [{ entry: coordinator, value: written }],
    send: (entry, signal) =>
      context.client.command(
        entry.member,
        entry.partition,
        { type: 'merge', bucket, key, object, durable },
        { timeoutMs: remainingMs(context, request), signal },
      ),
    need,
    fail: (gathered) => quorumError(operation, need, gathered),
    scheduler: context.scheduler,
    timeoutMs: remainingMs(context, request),
    signal: request.signal,
  })
  fan.all.then((all) => logLateFailures(context, operation, all))
  const gathered = await fan.quorum
  return {
    object,
    values: liveValues(object),
    context: contextOf(object),
    coordinator,
    answered: gathered.answers.map(({ entry }: Answer<Ack>) => ({ ...entry, durable })),
    failures: gathered.failures,
  }
}

/** Replication failures are logged: the write stands, and read repair or handoff will catch up. */
function logLateFailures(
  context: CoordinatorContext,
  operation: string,
  gathered: Gathered<Ack>,
): void {
  for (const failure of gathered.failures) {
    context.log?.error(
      '%s: replica %s@%d (%s) failed: %s',
      operation,
      failure.member,
      failure.partition,
      failure.kind,
      failure.code,
    )
  }
}
