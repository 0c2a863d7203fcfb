/**
 * Errors of the coordinators and the vnode protocol, each with a stable `code`. A {@link QuorumError}
 * says how many replicas answered, how many were needed, and which failed and why, so an operator can
 * tell a slow replica from a down one.
 */
import { SolarOrbitError } from '../core/index.ts'
import type { ReplicaFailure } from './replica.ts'

/** What a quorum needed: answers in all, and primaries among them (PR/PW). */
export interface QuorumNeed {
  /** Answers needed (R for a get; the larger of W and DW for a write). */
  readonly answers: number
  /** Answers needed from primaries (PR or PW); 0 when any replica counts. */
  readonly primaries: number
}

/** A request could not gather its quorum: too few replicas answered, or too few primaries exist. */
export class QuorumError extends SolarOrbitError {
  static readonly code = 'ERR_QUORUM'
  /** The coordinated operation: `get`, `put` or `delete`. */
  readonly operation: string
  /** What the quorum needed. */
  readonly needed: QuorumNeed
  /** Replicas that answered. */
  readonly answered: number
  /** Primaries among them. */
  readonly answeredPrimaries: number
  /** Replicas asked (the preflist's length; below n when too few members are up). */
  readonly asked: number
  /** Replicas that failed, each with its error code and message (`ERR_TIMEOUT` for one that did not answer in time). */
  readonly failures: readonly ReplicaFailure[]

  constructor(
    operation: string,
    needed: QuorumNeed,
    answered: number,
    answeredPrimaries: number,
    asked: number,
    failures: readonly ReplicaFailure[],
  ) {
    const primaries = needed.primaries > 0 ? ` and ${needed.primaries} primaries` : ''
    const why = failures.map((f) => `${f.member}@${f.partition} (${f.kind}): ${f.code}`).join(', ')
    super(
      QuorumError.code,
      `${operation} needed ${needed.answers} answers${primaries}, got ${answered} (${answeredPrimaries} primaries) of ${asked} asked${why ? `; failed: ${why}` : ''}`,
    )
    this.operation = operation
    this.needed = needed
    this.answered = answered
    this.answeredPrimaries = answeredPrimaries
    this.asked = asked
    this.failures = failures
  }
}

/** A full-keyspace query could not cover every partition: no up replica for some, or a vnode failed. */
export class CoverageError extends SolarOrbitError {
  static readonly code = 'ERR_COVERAGE'
  /** Key partitions no up vnode could answer for (empty when the plan existed but a vnode failed). */
  readonly uncovered: readonly number[]
  /** Vnodes of the plan that failed. */
  readonly failures: readonly ReplicaFailure[]

  constructor(uncovered: readonly number[], failures: readonly ReplicaFailure[]) {
    const parts: string[] = []
    if (uncovered.length > 0) parts.push(`no up replica for partitions ${uncovered.join(', ')}`)
    for (const f of failures) parts.push(`${f.member}@${f.partition}: ${f.code}`)
    super(CoverageError.code, `coverage failed: ${parts.join('; ')}`)
    this.uncovered = uncovered
    this.failures = failures
  }
}

/** The node has no ring yet (it has not joined or not heard the cluster state): nothing to coordinate over. */
export class NoRingError extends SolarOrbitError {
  static readonly code = 'ERR_NO_RING'
  constructor() {
    super(NoRingError.code, 'no ring yet: the node has not learned the cluster state')
  }
}

/** A peer that is not an authorized cluster member asked a vnode for something; refused. */
export class NotMemberError extends SolarOrbitError {
  static readonly code = 'ERR_NOT_MEMBER'
  /** The refused peer. */
  readonly peer: string

  constructor(peer: string) {
    super(NotMemberError.code, `peer ${peer} is not a cluster member`)
    this.peer = peer
  }
}
