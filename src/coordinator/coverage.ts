/**
 * The coverage coordinator (riak_core_coverage_fsm with riak_kv's list-keys): plan the fewest vnodes
 * that hold every key once, ask them all in parallel, and merge their answers without duplicates. Every
 * vnode of the plan must answer before the deadline, or the query fails with a `CoverageError`.
 */
import type { KeyPart, MemberId, PreflistEntry, Ring } from '../ring/index.ts'
import { type CoverageVnode, coveragePlan } from './coverage-plan.ts'
import { CoverageError } from './errors.ts'
import { fanOut } from './fanout.ts'
import { hex } from './hex.ts'
import type { CoordinatorContext } from './request.ts'

/** What a key listing returns. */
export interface ListKeysResult {
  /** The bucket's live keys, each once, in unsigned byte order. */
  readonly keys: readonly Uint8Array[]
  /** The vnodes that answered: the coverage plan. */
  readonly vnodes: readonly CoverageVnode[]
}

/** A coverage query ready to run. */
export interface PlannedCoverage {
  /** The ring to plan over. */
  readonly ring: Ring
  /** Replicas per key of the bucket. */
  readonly n: number
  /** Whether a vnode's owner can be asked. */
  readonly isUp: (member: MemberId) => boolean
  /** Every vnode of the plan must answer within this many ms. */
  readonly timeoutMs: number
  /** The caller's signal, if any. */
  readonly signal: AbortSignal | undefined
}

/**
 * Lists the live keys of `bucket` over a coverage plan. Rejects with `CoverageError` when some key
 * partition has no up replica or a vnode of the plan fails or times out, and with the signal's reason
 * when it aborts.
 */
export async function coordinateListKeys(
  context: CoordinatorContext,
  bucket: KeyPart,
  query: PlannedCoverage,
): Promise<ListKeysResult> {
  const plan = coveragePlan(query.ring, query.n, query.isUp)
  if (plan.kind === 'uncovered') throw new CoverageError(plan.partitions, [])
  const byEntry = new Map<PreflistEntry, CoverageVnode>()
  for (const vnode of plan.vnodes) {
    byEntry.set({ partition: vnode.partition, member: vnode.member, kind: 'primary' }, vnode)
  }
  const fan = fanOut({
    entries: [...byEntry.keys()],
    send: (entry, signal) =>
      context.client.coverage(
        entry.member,
        entry.partition,
        { type: 'listKeys', bucket },
        byEntry.get(entry)!.keyFilter,
        { timeoutMs: query.timeoutMs, signal },
      ),
    need: { answers: byEntry.size, primaries: 0 },
    fail: (gathered) => new CoverageError([], gathered.failures),
    scheduler: context.scheduler,
    timeoutMs: query.timeoutMs,
    signal: query.signal,
  })
  const gathered = await fan.quorum
  const unique = new Map<string, Uint8Array>()
  for (const { value } of gathered.answers) {
    for (const key of value.keys) unique.set(hex(key), key)
  }
  const keys = [...unique].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, key]) => key)
  return { keys, vnodes: plan.vnodes }
}
