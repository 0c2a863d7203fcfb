/**
 * The get coordinator (riak_kv_get_fsm): ask the n replicas of a key in parallel, answer once R of them
 * (PR of them primaries) replied, with their objects merged by DVV sync: the live values (siblings
 * when concurrent) and the context for the next write. Replicas that reply later are still awaited
 * until the deadline, then every replica whose object differs from the merge of all replies (stale, or
 * missing the key) is sent the merge (read repair), with the request's timeout again.
 */

import type { VersionVector } from '../clock/index.ts'
import { sync } from '../clock/index.ts'
import { contextOf, type KvGetReply, type KvObject, liveValues } from '../kv/index.ts'
import type { KeyPart, PreflistEntry } from '../ring/index.ts'
import { type Answer, fanOut, type Gathered } from './fanout.ts'
import { sameObject } from './object-equality.ts'
import type { ReplicaFailure } from './replica.ts'
import { replicaFailure } from './replica.ts'
import {
  type CoordinatorContext,
  type PlannedRequest,
  quorumError,
  remainingMs,
} from './request.ts'

/** What read repair did once every replica answered or the deadline passed. */
export interface ReadRepairReport {
  /** Replicas sent the merged object that acknowledged it. */
  readonly repaired: readonly PreflistEntry[]
  /** Replicas whose repair failed. */
  readonly failures: readonly ReplicaFailure[]
}

/** What a get returns. */
export interface GetResult {
  /** The live values: none when the key is absent or deleted, several for siblings. */
  readonly values: readonly Uint8Array[]
  /** Pass it with the next write of the key, so the write supersedes what was read. */
  readonly context: VersionVector
  /** The merged object (with tombstones), or undefined when no replica that answered has the key. */
  readonly object: KvObject | undefined
  /** Replicas that answered before the get returned, primary or fallback. */
  readonly answered: readonly PreflistEntry[]
  /** Replicas that failed before the get returned. */
  readonly failures: readonly ReplicaFailure[]
  /** Settles (never rejects) when read repair is done; see the module comment. */
  readonly repair: Promise<ReadRepairReport>
}

/** Runs a get of `key` in `bucket` over `request`'s preflist. Rejects with `QuorumError` below R/PR. */
export async function coordinateGet(
  context: CoordinatorContext,
  bucket: KeyPart,
  key: KeyPart,
  request: PlannedRequest,
): Promise<GetResult> {
  const need = { answers: request.props.r, primaries: request.props.pr }
  const fan = fanOut<KvGetReply>({
    entries: request.entries,
    send: (entry, signal) =>
      context.client.command(
        entry.member,
        entry.partition,
        { type: 'get', bucket, key },
        { timeoutMs: remainingMs(context, request), signal },
      ),
    need,
    fail: (gathered) => quorumError('get', need, gathered),
    scheduler: context.scheduler,
    timeoutMs: remainingMs(context, request),
    signal: request.signal,
  })
  const gathered = await fan.quorum
  const object = mergeReplies(gathered.answers)
  return {
    values: liveValues(object),
    context: contextOf(object),
    object,
    answered: gathered.answers.map(({ entry }) => entry),
    failures: gathered.failures,
    repair: fan.all.then((all) => readRepair(context, bucket, key, request, all)),
  }
}

function mergeReplies(answers: readonly Answer<KvGetReply>[]): KvObject | undefined {
  let merged: KvObject | undefined
  for (const { value } of answers) {
    if (value.object === undefined) continue
    // Replicas usually agree: the sync of two equal objects is the object, so skip it.
    if (merged === undefined || sameObject(merged, value.object)) merged ??= value.object
    else merged = sync(merged, value.object)
  }
  return merged
}

/** Sends the merge of every reply to the replicas that answered with something else. */
async function readRepair(
  context: CoordinatorContext,
  bucket: KeyPart,
  key: KeyPart,
  request: PlannedRequest,
  gathered: Gathered<KvGetReply>,
): Promise<ReadRepairReport> {
  const merged = mergeReplies(gathered.answers)
  if (merged === undefined || request.signal?.aborted) return { repaired: [], failures: [] }
  const stale = gathered.answers
    .filter(({ value }) => value.object === undefined || !sameObject(value.object, merged))
    .map(({ entry }) => entry)
  const outcomes = await Promise.all(
    stale.map((entry) =>
      context.client
        .command(
          entry.member,
          entry.partition,
          { type: 'merge', bucket, key, object: merged },
          { timeoutMs: request.timeoutMs },
        )
        .then(
          (): ReplicaFailure | undefined => undefined,
          (error: unknown) => replicaFailure(entry, error),
        ),
    ),
  )
  return {
    repaired: stale.filter((_, i) => outcomes[i] === undefined),
    failures: outcomes.filter((failure) => failure !== undefined),
  }
}
