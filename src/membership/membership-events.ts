/**
 * The events a membership service emits, and the pure function that reads the state events off two
 * successive cluster states, so every member reports the same events for the same change whichever
 * way (its own detector, a merge, a commit) the change reached it.
 */
import type { DecodeError } from '../core/index.ts'
import type { MemberId } from '../ring/index.ts'
import type { PeerId } from '../transport/index.ts'
import { type ClusterState, getMember, statusOf } from './cluster-state.ts'
import type { ForeignClusterError } from './gossip-codec.ts'

/** A message from a peer that was refused: malformed ({@link DecodeError}) or of another cluster ({@link ForeignClusterError}). */
export interface DroppedMessage {
  readonly from: PeerId
  readonly error: DecodeError | ForeignClusterError
}

/** Events of a membership service; each is emitted after the state it reports is in place. */
export interface MembershipEvents {
  /** The cluster state changed (by a merge, a local change, a down mark or a commit); `detail` is the new state. */
  'state:changed': ClusterState
  /** The state now marks this member down (this member's detector or another's did it). */
  'member:down': MemberId
  /** A member marked down is no longer marked down (it announced itself). */
  'member:up': MemberId
  /** The ring's owners changed (a commit); `detail` is the new state. */
  'ring:changed': ClusterState
  /** A heartbeat or state message was refused and dropped. */
  'gossip:dropped': DroppedMessage
}

/** One event of {@link stateEvents}. */
export type StateEvent =
  | { readonly type: 'member:down' | 'member:up'; readonly detail: MemberId }
  | { readonly type: 'ring:changed'; readonly detail: ClusterState }

/**
 * What changed from `previous` to `next`, in member order then the ring: `member:down` for a member
 * whose status became `down`, `member:up` for one that was `down` and is joining or valid again (not
 * for one removed while down), `ring:changed` when any partition's owner differs.
 */
export function stateEvents(previous: ClusterState, next: ClusterState): StateEvent[] {
  const events: StateEvent[] = []
  for (const member of next.members) {
    const before = getMember(previous, member.id)
    const wasDown = before !== undefined && statusOf(before) === 'down'
    const status = statusOf(member)
    if (!wasDown && status === 'down') events.push({ type: 'member:down', detail: member.id })
    if (wasDown && (status === 'joining' || status === 'valid')) {
      events.push({ type: 'member:up', detail: member.id })
    }
  }
  if (next.ring?.owners.some((owner, p) => owner !== previous.ring?.owners[p])) {
    events.push({ type: 'ring:changed', detail: next })
  }
  return events
}
