/**
 * Membership: who is in the cluster, who owns which partition, and how that changes.
 *
 * Maps to riak_core as follows:
 * - `riak_core_ring` (the ring record with its members, `next` list, claimant and vector clock) →
 *   {@link ClusterState} (cluster-state.ts): one immutable value with members, the committed ring,
 *   pending transfers, the claimant of the latest commit and a version vector.
 * - `riak_core_gossip`'s `reconcile` → {@link merge} (merge.ts), a state-based CRDT join, so any gossip
 *   order converges without a designated claimant having to see every change first.
 * - `riak_core_claimant` (`stage`/`plan`/`commit`/`clear`, join, leave, remove, replace, force-replace)
 *   → staging.ts; a leave takes one ring transition instead of riak's two. Auto mode (auto-claim.ts)
 *   plans and commits once the member set has held still, for meshes of browsers.
 * - riak's `term_to_binary` of the ring → a versioned CBOR codec with validation (codec.ts).
 * - `riak_core_gossip` and `riak_core_node_watcher` → {@link MembershipService}
 *   (membership-service.ts): heartbeats with state digests on a broadcast topic, the full state over a
 *   direct exchange when digests differ plus periodic anti-entropy, a {@link FailureDetector} that
 *   needs missed heartbeats and the connection to agree (with hysteresis), and the auto mode driver.
 *
 * Everything here runs on the ports: time and timers come from Clock and Scheduler, peers from the
 * Transport, so the same code runs over libp2p and in the simulator.
 */
export * from './auto-claim.ts'
export {
  announce,
  type ClusterState,
  completeTransfer,
  currentOwners,
  emptyState,
  equalStates,
  getMember,
  isDown,
  type Lifecycle,
  type Member,
  type MemberInit,
  type MemberRole,
  type MemberStatus,
  markDown,
  type PendingTransfer,
  statusOf,
} from './cluster-state.ts'
export * from './codec.ts'
export * from './failure-detector.ts'
export * from './gossip-codec.ts'
export * from './gossip-digest.ts'
export * from './membership-events.ts'
export * from './membership-service.ts'
export { merge, mergeMember } from './merge.ts'
export * from './staging.ts'
