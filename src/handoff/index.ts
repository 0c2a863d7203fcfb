/**
 * Handoff: moving a partition's data between nodes, after riak_core's `riak_core_handoff_manager`
 * (which transfers run, with a concurrency limit: {@link HandoffScheduler}), `riak_core_handoff_sender`
 * (fold the vnode into batches: `sender.ts`) and `riak_core_handoff_receiver` (apply and acknowledge:
 * {@link serveHandoff}). Two kinds, as in Dynamo: ownership transfers of a committed plan, and hinted
 * handoff of the writes a fallback accepted for a down primary ({@link plannedTransfers} picks both
 * from the cluster state).
 *
 * What we do better than riak_core (ARCHITECTURE.md §10):
 * - a handoff starts right away, never waiting for the vnode to be idle (the start jumps its queue);
 * - a failed attempt resumes after the last acknowledged batch instead of restarting the fold, and
 *   batches are applied by merge (with duplicate seqs acknowledged without applying), so a replay
 *   never doubles data;
 * - a hint is deleted only after the primary acknowledged every batch and the finish;
 * - batches are bounded in items and bytes, pipelined with a window, and back off on the receiver's
 *   `OverloadError`;
 * - every waiting transfer says why it waits, and progress shows items, bytes, rate and ETA;
 * - messages are versioned, validated CBOR, and only members may hand data in.
 *
 * Pure protocol code: time, timers and randomness come through ports, the network through the
 * Transport port.
 */
export * from './errors.ts'
export type * from './events.ts'
export { plannedTransfers } from './plan.ts'
export type { ProgressFigures } from './progress.ts'
export * from './protocol.ts'
export {
  type HandoffReceiverInit,
  type HandoffSink,
  type HandoffSinks,
  serveHandoff,
} from './receiver.ts'
export {
  HandoffScheduler,
  type HandoffSchedulerComponents,
  type HandoffSchedulerInit,
  type HandoffVnode,
  type HandoffVnodes,
  type PlannedTransfer,
} from './scheduler.ts'
