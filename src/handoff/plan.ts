/**
 * Which transfers a node should run, from the cluster state (riak_core_vnode_manager decided this
 * per vnode on a timer; here it is one pure function the node calls on every state change):
 *
 * - ownership: every transfer of the latest commit that is awaiting and comes from this node;
 * - hinted: every partition holding data here that this node neither holds in the current ownership
 *   (`currentOwners`) nor sends or receives in an awaiting transfer: a fallback's hints, handed to the
 *   partition's current holder.
 */
import { type ClusterState, currentOwners, getMember, isDown } from '../membership/index.ts'
import type { MemberId } from '../ring/index.ts'
import type { PlannedTransfer } from './scheduler.ts'

/**
 * The transfers `self` should run in `state`, given the partitions holding data on this node
 * (`NodeStorage.partitions()`), sorted by partition, ownership before hinted. Empty before the first
 * commit. A target unknown to the state counts as down.
 */
export function plannedTransfers(
  state: ClusterState,
  self: MemberId,
  holding: Iterable<number>,
): PlannedTransfer[] {
  const owners = currentOwners(state)
  if (!owners) return []
  const down = (id: MemberId): boolean => {
    const member = getMember(state, id)
    return member === undefined || isDown(member)
  }
  const planned: PlannedTransfer[] = []
  const moving = new Set<number>()
  for (const t of state.transfers) {
    if (t.status !== 'awaiting') continue
    if (t.from === self || t.to === self) moving.add(t.partition)
    if (t.from !== self) continue
    planned.push({
      type: 'ownership',
      partition: t.partition,
      member: t.to,
      targetDown: down(t.to),
    })
  }
  for (const partition of [...holding].sort((a, b) => a - b)) {
    const owner = owners[partition]
    if (owner === undefined || owner === self || moving.has(partition)) continue
    planned.push({ type: 'hinted', partition, member: owner, targetDown: down(owner) })
  }
  return planned
}
