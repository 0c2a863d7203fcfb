/**
 * The safety checker: judges a workload's {@link HistoryRecord}s against the final state of every
 * key (read from all n replicas after the cluster healed). It decides from the history, never from
 * the store, which writes were allowed to disappear.
 *
 * The guarantee checked, for a bucket with dw = w (every acknowledgement is a durable write):
 *
 * 1. No acknowledged write is lost: the value of every put that was acknowledged is still readable
 *    (as the value or a sibling), unless some put whose client context covered its dot replaced it
 *    causally and that put was itself acknowledged or its value is still readable (proof that it was
 *    applied). The one excuse: every member that acknowledged the write had its storage wiped after
 *    the write began (losing all acknowledged copies is allowed; the simulator wipes at most one disk
 *    per seed by default, so this excuses only writes acknowledged by that member alone).
 * 2. No resurrection: no readable value was causally replaced by an acknowledged put (its dot is
 *    covered by that put's client context), unless that put is excused as in 1 (its loss undoes
 *    its replacement).
 * 3. No phantom: every readable value was written by some put of the history.
 * 4. No unseen replacement: a write is replaced only by a put whose context came from a read that
 *    saw it, so the dot of every acknowledged value that is gone is known, from its own result or a
 *    read (`missing-dot` otherwise: a dot named two writes).
 * 5. Siblings stay bounded: no final read holds more than `siblingsMax` values.
 *
 * With dw = 0 a write acknowledged by w replicas that all crash before durability is lost by
 * design; run such configurations only to show that the checker notices (see the tests).
 */
import type { VersionVector } from '../clock/index.ts'
import type { KvObject } from '../kv/index.ts'
import type { MemberId } from '../ring/index.ts'
import { type Dot, type HistoryRecord, type PutRecord, valueDots } from './workload.ts'

/** What the final read of one key returned: the merge of all n replicas. */
export interface FinalRead {
  readonly key: string
  readonly values: readonly string[]
  readonly object: KvObject | undefined
}

/** Kinds of violation the checkers report. */
export type ViolationKind =
  | 'lost-write'
  | 'resurrected-write'
  | 'phantom-value'
  | 'missing-dot'
  | 'siblings-exceeded'
  | 'final-read-failed'
  | 'no-convergence'
  | 'replica-divergence'
  | 'hints-left'
  | 'unexpected-error'

/** One broken guarantee. */
export interface Violation {
  readonly kind: ViolationKind
  /** The key concerned, if any. */
  readonly key?: string
  /** What went wrong, with the values, dots and members involved. */
  readonly message: string
}

/** Inputs of {@link checkHistory}. */
export interface HistoryCheckInit {
  readonly history: readonly HistoryRecord[]
  /** The final read of each key the workload used. */
  readonly finals: ReadonlyMap<string, FinalRead>
  /** When each member's storage was wiped. */
  readonly wipedAtMs: (member: MemberId) => readonly number[]
  /** Most siblings a final read may hold. */
  readonly siblingsMax: number
}

/** What {@link checkHistory} found. */
export interface HistoryReport {
  /** Puts acknowledged by their quorum (of every key, read finally or not). */
  readonly acknowledgedWrites: number
  /** Acknowledged puts whose value is gone without a causal replacement (each is also a violation). */
  readonly lostAcknowledgedWrites: number
  /** Acknowledged puts not checked because every member that acknowledged them was wiped. */
  readonly excusedWrites: number
  /** Most values any get or final read returned. */
  readonly maxSiblings: number
  readonly violations: readonly Violation[]
}

/** Checks the guarantee of the module comment. */
export function checkHistory(init: HistoryCheckInit): HistoryReport {
  const violations: Violation[] = []
  let acknowledgedWrites = 0
  let lost = 0
  let excused = 0
  let maxSiblings = 0
  const putsByKey = new Map<string, PutRecord[]>()
  /** Dots of values as gets observed them: the dot of a put whose result no longer showed it. */
  const observed = new Map<string, Dot>()
  for (const record of init.history) {
    if (record.kind === 'get') {
      maxSiblings = Math.max(maxSiblings, record.values?.length ?? 0)
      for (const [i, value] of (record.values ?? []).entries())
        observed.set(value, record.dots![i]!)
      continue
    }
    const puts = putsByKey.get(record.key) ?? []
    puts.push(record)
    putsByKey.set(record.key, puts)
  }

  for (const puts of putsByKey.values()) {
    acknowledgedWrites += puts.filter((put) => put.outcome === 'ok').length
  }
  for (const [key, final] of init.finals) {
    const puts = putsByKey.get(key) ?? []
    const readable = new Set(final.values)
    maxSiblings = Math.max(maxSiblings, final.values.length)
    if (final.values.length > init.siblingsMax) {
      violations.push({
        kind: 'siblings-exceeded',
        key,
        message: `${final.values.length} siblings, more than ${init.siblingsMax}: ${final.values.join(', ')}`,
      })
    }
    const acknowledged = puts.filter((put) => put.outcome === 'ok')
    const wiped = new Set(acknowledged.filter((put) => allWiped(put, init.wipedAtMs)))
    for (const put of acknowledged) {
      if (readable.has(put.value)) continue
      const dot = put.dot ?? observed.get(put.value)
      if (dot === undefined) {
        violations.push({
          kind: 'missing-dot',
          key,
          message: `acknowledged put ${put.value} is gone and no read ever saw it: not in its own result, so something replaced it unseen`,
        })
        continue
      }
      const replacer = puts.find(
        (other) =>
          other !== put &&
          covers(other.context, dot) &&
          (other.outcome === 'ok' || readable.has(other.value)),
      )
      if (replacer !== undefined) continue
      if (wiped.has(put)) {
        excused++
        continue
      }
      lost++
      violations.push({
        kind: 'lost-write',
        key,
        message: `acknowledged put ${put.value} (dot ${dot.join('@')}, by ${put.ackedBy?.join(',')}, ${put.startMs}-${put.endMs} ms via ${put.node}) is gone; final values: [${final.values.join(', ')}]`,
      })
    }
    const dots = valueDots(final.object)
    for (const value of final.values) {
      const writer = puts.find((put) => put.value === value)
      if (writer === undefined) {
        violations.push({ kind: 'phantom-value', key, message: `value ${value} was never written` })
        continue
      }
      const dot = dots.get(value)
      const killer =
        dot &&
        acknowledged.find((put) => put !== writer && !wiped.has(put) && covers(put.context, dot))
      if (killer) {
        violations.push({
          kind: 'resurrected-write',
          key,
          message: `value ${value} (dot ${dot.join('@')}) is readable although acknowledged put ${killer.value} replaced it`,
        })
      }
    }
  }
  return {
    acknowledgedWrites,
    lostAcknowledgedWrites: lost,
    excusedWrites: excused,
    maxSiblings,
    violations,
  }
}

/** Whether every member that acknowledged `put` had its storage wiped after the put began. */
function allWiped(put: PutRecord, wipedAtMs: (member: MemberId) => readonly number[]): boolean {
  const ackedBy = put.ackedBy ?? []
  return (
    ackedBy.length > 0 &&
    ackedBy.every((member) => wipedAtMs(member).some((atMs) => atMs >= put.startMs))
  )
}

/** Whether `context` has seen `dot`. */
function covers(context: VersionVector | undefined, [actor, counter]: Dot): boolean {
  return context?.some(([a, c]) => a === actor && c >= counter) ?? false
}
