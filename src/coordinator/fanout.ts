/**
 * The scatter-gather at the heart of every coordinator (the waiting states of riak_kv_get_fsm and
 * riak_kv_put_fsm): send to every replica in parallel, count answers and primaries, and decide as soon
 * as the quorum is met or can no longer be met. One deadline, armed on the Scheduler port, turns every
 * replica still silent into an `ERR_TIMEOUT` failure; the caller's AbortSignal cancels the lot. Replicas
 * that answer after the quorum are still gathered (read repair needs them) until all answered or the
 * deadline passed.
 */
import type { Scheduler } from '../core/index.ts'
import type { PreflistEntry } from '../ring/index.ts'
import { TimeoutError } from '../transport/index.ts'
import type { QuorumNeed } from './errors.ts'
import { type ReplicaFailure, replicaFailure } from './replica.ts'

/** One replica's successful answer. */
export interface Answer<T> {
  readonly entry: PreflistEntry
  readonly value: T
}

/** What a fan-out gathered so far. */
export interface Gathered<T> {
  /** Answers in arrival order. */
  readonly answers: readonly Answer<T>[]
  /** Failures in arrival order (timeouts last). */
  readonly failures: readonly ReplicaFailure[]
  /** Replicas asked, including the answers given up front. */
  readonly asked: number
}

/** Options of {@link fanOut}. */
export interface FanOutInit<T> {
  /** The replicas to ask. */
  readonly entries: readonly PreflistEntry[]
  /** Answers already in hand (the coordinating vnode's write), counted toward the quorum. Default none. */
  readonly answered?: readonly Answer<T>[]
  /**
   * Asks one replica, by the deadline the fan-out was given. `signal` is the caller's {@link signal}:
   * nothing else cuts a request short, since a replica's answer is gathered until the deadline.
   */
  readonly send: (entry: PreflistEntry, signal: AbortSignal | undefined) => Promise<T>
  /** What the quorum needs. */
  readonly need: QuorumNeed
  /** The error `quorum` rejects with when the need cannot be met. */
  readonly fail: (gathered: Gathered<T>) => Error
  /** Arms the deadline. */
  readonly scheduler: Scheduler
  /** Replicas silent this many ms from now count as timed out. */
  readonly timeoutMs: number
  /** The caller's signal: aborting rejects `quorum` with its reason. Optional. */
  readonly signal?: AbortSignal | undefined
}

/** A running fan-out. */
export interface FanOut<T> {
  /** Resolves once the need is met; rejects with `fail(...)` once it cannot be, or the signal's reason. */
  readonly quorum: Promise<Gathered<T>>
  /** Resolves (never rejects) once every replica answered or failed, the deadline passed, or the signal aborted. */
  readonly all: Promise<Gathered<T>>
}

/** Starts asking `init.entries`; see the module comment. */
export function fanOut<T>(init: FanOutInit<T>): FanOut<T> {
  const answers: Answer<T>[] = [...(init.answered ?? [])]
  const failures: ReplicaFailure[] = []
  const pending = new Set(init.entries)
  const asked = answers.length + init.entries.length
  const quorum = deferred<Gathered<T>>()
  const all = deferred<Gathered<T>>()
  let decided = false
  let finished = false

  const snapshot = (): Gathered<T> => ({ answers: [...answers], failures: [...failures], asked })
  const primaries = (entries: Iterable<PreflistEntry>): number => {
    let count = 0
    for (const entry of entries) if (entry.kind === 'primary') count++
    return count
  }
  const decide = (outcome: 'met' | Error): void => {
    if (decided) return
    decided = true
    if (outcome === 'met') quorum.resolve(snapshot())
    else quorum.reject(outcome)
  }
  const finish = (): void => {
    if (finished) return
    finished = true
    cancelDeadline()
    init.signal?.removeEventListener('abort', onAbort)
    all.resolve(snapshot())
  }
  const check = (): void => {
    if (!decided) {
      const answeredPrimaries = primaries(answers.map((a) => a.entry))
      if (answers.length >= init.need.answers && answeredPrimaries >= init.need.primaries) {
        decide('met')
      } else if (
        answers.length + pending.size < init.need.answers ||
        answeredPrimaries + primaries(pending) < init.need.primaries
      ) {
        decide(init.fail(snapshot()))
      }
    }
    if (pending.size === 0) finish()
  }
  const onAbort = (): void => {
    decide(init.signal?.reason)
    pending.clear()
    finish()
  }
  const cancelDeadline = init.scheduler.schedule(init.timeoutMs, () => {
    for (const entry of pending) {
      failures.push(
        replicaFailure(entry, new TimeoutError(entry.member, 'vnode request', init.timeoutMs)),
      )
    }
    pending.clear()
    check()
  })

  if (init.signal?.aborted) onAbort()
  else init.signal?.addEventListener('abort', onAbort, { once: true })
  for (const entry of init.entries) {
    if (finished) break
    init.send(entry, init.signal).then(
      (value) => {
        if (!pending.delete(entry)) return
        answers.push({ entry, value })
        check()
      },
      (error: unknown) => {
        if (!pending.delete(entry)) return
        failures.push(replicaFailure(entry, error))
        check()
      },
    )
  }
  check()
  return { quorum: quorum.promise, all: all.promise }
}

/** A promise with its settle functions (`Promise.withResolvers`, which the ES2023 lib lacks). */
function deferred<T>(): {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (reason: unknown) => void
} {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
