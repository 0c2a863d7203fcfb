/**
 * Dotted version vector sets (DVVSet): the causality clock of one key's replicated value, after Preguiça,
 * Baquero, Almeida, Fonte and Gonçalves, "Dotted Version Vectors: Logical Clocks for Optimistic
 * Replication" (2010), and "Scalable and Accurate Causality Tracking for Eventually Consistent Stores"
 * (Almeida et al., DAIS 2014), as riak_kv's `dvvset` module uses them. Written anew for this project.
 *
 * A set holds, per actor, a counter `n` (the actor's events this replica has seen: dots 1..n) and the
 * values still current among that actor's newest dots, newest first: `values[i]` was written at dot
 * `(actor, n - i)`. Older dots of the actor are known and superseded. Every value has its own dot, so
 * concurrent writes stay apart as siblings, and the clock grows with the number of actors, not writes.
 *
 * The write path of a Dynamo-style store:
 * 1. a client reads, gets the values and the context `join(set)`, and writes `newValue(context, v)`;
 * 2. the coordinating vnode applies `update(proposal, localSet, itsActorId)` and stores the result;
 * 3. replicas (and read repair, and handoff) merge what they receive with `sync(received, local)`.
 *
 * All functions are pure and never mutate their arguments.
 */
import { InvalidArgumentError } from '../core/index.ts'
import type { ActorId } from './actor.ts'
import type { VersionVector } from './version-vector.ts'

/** One actor's part of a {@link DvvSet}. */
export interface DvvEntry<V> {
  /** The actor. */
  readonly actor: ActorId
  /** Dots `(actor, 1..counter)` are known; a positive integer. */
  readonly counter: number
  /** Current values of the actor's newest dots, newest first: `values[i]` has dot `counter - i`. At most `counter` of them. */
  readonly values: readonly V[]
}

/** The clock and values of one key: entries sorted by actor, one per actor. Treat as immutable. */
export interface DvvSet<V> {
  readonly entries: readonly DvvEntry<V>[]
}

/** A value a client wants to write, with the context it read (not yet given a dot). See {@link update}. */
export interface DvvProposal<V> {
  /** What the writer had seen; values it covers are superseded by the write. */
  readonly context: VersionVector
  /** The new value. */
  readonly value: V
}

/** The set of a key that has never been written. */
export function emptySet<V>(): DvvSet<V> {
  return { entries: [] }
}

/**
 * A client's write of `value` having read `context` (from {@link join}; `undefined` or `[]` for a blind
 * write that supersedes nothing). The context may come in any order; it is validated and sorted.
 * Throws `InvalidArgumentError` for a counter that is not a positive integer or an actor listed twice.
 */
export function newValue<V>(context: VersionVector | undefined, value: V): DvvProposal<V> {
  const sorted = [...(context ?? [])].sort(([a], [b]) => compareActors(a, b))
  sorted.forEach(([actor, counter], i) => {
    if (!Number.isSafeInteger(counter) || counter < 1) {
      throw new InvalidArgumentError(
        `counter of ${actor} must be a positive integer, got ${counter}`,
      )
    }
    if (i > 0 && sorted[i - 1]![0] === actor) {
      throw new InvalidArgumentError(`actor ${actor} appears twice in the context`)
    }
  })
  return { context: sorted, value }
}

/**
 * The coordinator's step: gives `proposal.value` a new dot of `actor` and merges it into `local` (the
 * coordinator's stored set, `undefined` if it has none). Local values the proposal's context covers
 * are dropped; the others remain as siblings of the new value. The new dot is `(actor, n + 1)` where `n`
 * is the larger of `actor`'s counters in `local` and in the context.
 *
 * The caller must make sure `actor` never issued that dot before: see {@link mustRenewEpoch}.
 */
export function update<V>(
  proposal: DvvProposal<V>,
  local: DvvSet<V> | undefined,
  actor: ActorId,
): DvvSet<V> {
  const context: DvvSet<V> = {
    entries: proposal.context.map(([id, counter]) => ({ actor: id, counter, values: [] })),
  }
  const merged = local === undefined ? context : sync(context, local)
  return event(merged, actor, proposal.value)
}

/**
 * True when the coordinator `actor` must switch to a fresh epoch (a new actor id) before applying
 * `proposal` to `local`: the context shows more events of `actor` than `local` remembers, so this replica
 * lost data for the key (a deleted-and-reaped tombstone, a restored backup, a bad handoff), and the dots it
 * would issue next may already name other writes. This is the per-key form of riak's kv679 fix; the
 * storage-wide form is choosing a fresh epoch when a vnode starts with empty storage (see `actor.ts`).
 * A blind write (empty context) to a key the replica lost cannot be detected here; a vnode that wants
 * that case covered uses a fresh epoch for every first write of a key, as riak_kv does.
 */
export function mustRenewEpoch<V>(
  proposal: DvvProposal<V>,
  local: DvvSet<V> | undefined,
  actor: ActorId,
): boolean {
  const seen = proposal.context.find(([id]) => id === actor)?.[1] ?? 0
  const remembered = local?.entries.find((entry) => entry.actor === actor)?.counter ?? 0
  return seen > remembered
}

/**
 * Merges two replicas' sets of the same key: the union of their causal histories, keeping the values
 * neither side has superseded. Commutative, associative and idempotent, so replicas converge whatever
 * the order of merges (as long as every dot names one write: see `actor.ts`). Returns `a` itself when
 * it already holds all of `b` (a replica merging a newer write), so whatever `a` carries stays with
 * it, such as the KV object's encoding.
 */
export function sync<V>(a: DvvSet<V>, b: DvvSet<V>): DvvSet<V> {
  const x = a.entries
  const y = b.entries
  const out: DvvEntry<V>[] = []
  /** Whether every entry so far is one of `a`'s, unchanged. */
  let onlyA = true
  let i = 0
  let j = 0
  while (i < x.length && j < y.length) {
    const order = compareActors(x[i]!.actor, y[j]!.actor)
    if (order < 0) out.push(x[i++]!)
    else if (order > 0) {
      out.push(y[j++]!)
      onlyA = false
    } else {
      const own = x[i++]!
      const merged = mergeEntries(own, y[j++]!)
      if (merged !== own) onlyA = false
      out.push(merged)
    }
  }
  while (i < x.length) out.push(x[i++]!)
  if (j < y.length) onlyA = false
  while (j < y.length) out.push(y[j++]!)
  return onlyA ? a : { entries: out }
}

/** The causal context of a set: what a client that read it has seen. Pass it to {@link newValue}. */
export function join<V>(set: DvvSet<V>): VersionVector {
  return set.entries.map((entry) => [entry.actor, entry.counter] as const)
}

/** The current values (siblings when more than one), in a deterministic order: by actor, newest first. */
export function values<V>(set: DvvSet<V>): V[] {
  return set.entries.flatMap((entry) => entry.values)
}

/**
 * Resolves siblings with the application's `merge` (for example a set union): a proposal that
 * supersedes every current value. Write it with {@link update} like any client write. Lossless only as
 * far as `merge` is.
 */
export function reconcile<V>(set: DvvSet<V>, merge: (siblings: readonly V[]) => V): DvvProposal<V> {
  return { context: join(set), value: merge(values(set)) }
}

/**
 * Last write wins: a proposal of the single sibling that `compare` ranks highest (`compare(a, b) > 0`
 * when `a` is newer; ties go to the first in {@link values} order, so every replica picks the same).
 * LOSSY: the other siblings are discarded even though no one saw them, and "newest" is only as good
 * as the timestamps `compare` reads, which drift between machines. Use only where that is acceptable.
 */
export function lww<V>(set: DvvSet<V>, compare: (a: V, b: V) => number): DvvProposal<V> {
  return reconcile(set, (siblings) => {
    if (siblings.length === 0) throw new InvalidArgumentError('lww of a set without values')
    return siblings.reduce((best, v) => (compare(v, best) > 0 ? v : best))
  })
}

function compareActors(a: ActorId, b: ActorId): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Merges two entries of the same actor: the larger counter, and the values neither side superseded. */
function mergeEntries<V>(x: DvvEntry<V>, y: DvvEntry<V>): DvvEntry<V> {
  const [high, low] = x.counter >= y.counter ? [x, y] : [y, x]
  // Dots at or below `floor` are superseded on one side or the other.
  const floor = Math.max(high.counter - high.values.length, low.counter - low.values.length)
  const keep = high.counter - floor
  return keep === high.values.length ? high : { ...high, values: high.values.slice(0, keep) }
}

/** Records a new event of `actor` with `value` in `set`. */
function event<V>(set: DvvSet<V>, actor: ActorId, value: V): DvvSet<V> {
  const entries = [...set.entries]
  const at = entries.findIndex((entry) => compareActors(entry.actor, actor) >= 0)
  const current = at >= 0 ? entries[at] : undefined
  if (current !== undefined && current.actor === actor) {
    entries[at] = { actor, counter: current.counter + 1, values: [value, ...current.values] }
  } else {
    entries.splice(at >= 0 ? at : entries.length, 0, { actor, counter: 1, values: [value] })
  }
  return { entries }
}
