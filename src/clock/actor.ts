/**
 * Actor ids of causality clocks: who created an event. An actor is a vnode *incarnation*, written
 * `${memberId}:${epoch}`, not just a member or a partition.
 *
 * Why the epoch (riak_kv issue 679, "kv679"): a dot `(actor, n)` must name one write, ever. If a
 * replica loses its storage (a browser clearing site data, a wiped disk, a restored backup) and comes
 * back under the same actor id, its counter restarts and it issues dots that already name other writes
 * held by other replicas. Merging then treats its new write as already seen (silently dropped), or
 * its later writes as descendants of writes they never saw (an acknowledged write silently dropped).
 * A fresh random epoch whenever a vnode starts with empty storage gives the new incarnation a new
 * namespace of dots, so its writes are concurrent with, never mistaken for, the old ones: at worst
 * siblings, never loss. The epoch is persisted with the vnode's data and reused while that data lives.
 * See also {@link mustRenewEpoch} for the per-key form of the same loss.
 */
import type { Random } from '../core/index.ts'
import { InvalidArgumentError } from '../core/index.ts'

/** An actor id, `${memberId}:${epoch}`. Compared as strings (UTF-16 code units). */
export type ActorId = string

/**
 * A fresh epoch: 64 random bits as 16 hex digits. Chosen when a vnode starts with empty storage (and by
 * {@link mustRenewEpoch}'s caller); 64 bits keep collisions negligible even across millions of restarts,
 * unlike riak's timestamp-derived ids (OpenRiak/riak_kv#47).
 */
export function newEpoch(random: Random): string {
  const hex = (x: number): string => x.toString(16).padStart(8, '0')
  return hex(random.nextU32()) + hex(random.nextU32())
}

/**
 * The actor id of a vnode incarnation. Throws `InvalidArgumentError` if `memberId` is empty or `epoch`
 * is empty or contains `:` (so the epoch is always the text after the last `:`).
 */
export function actorId(memberId: string, epoch: string): ActorId {
  if (memberId === '') throw new InvalidArgumentError('memberId must not be empty')
  if (epoch === '' || epoch.includes(':')) {
    throw new InvalidArgumentError(`epoch must be non-empty without ':', got '${epoch}'`)
  }
  return `${memberId}:${epoch}`
}
