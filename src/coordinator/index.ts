/**
 * Coordinators: the request side of the Dynamo design, after riak_kv and riak_core. Any node, guests
 * included, coordinates a request for a key over its preference list (sloppy quorum: down owners are
 * replaced by fallbacks, and every answer says which it was):
 *
 * - get (riak_kv_get_fsm): ask the n replicas in parallel, answer after R (PR primaries), merge the
 *   replies' dotted version vector sets, then read-repair the stale replicas;
 * - put and delete (riak_kv_put_fsm): apply the write on one vnode (this node's, if it holds a replica)
 *   to give it one dot, merge the result into the other replicas, answer after W (PW, DW);
 * - list keys over a coverage plan (riak_core_coverage_plan and riak_core_coverage_fsm): the fewest
 *   vnodes holding every key once, with key filters where they overlap.
 *
 * Replicas are reached through the KV vnode protocol over the Transport port (vnode-codec.ts,
 * vnode-client.ts, vnode-server.ts), which also carries a handing-off vnode's forwarded requests
 * (forwarder.ts). Time comes from the Clock and Scheduler ports only, so the coordinators run unchanged
 * in the simulator.
 */
export {
  type BucketProps,
  type BucketPropsMap,
  DEFAULT_BUCKET_PROPS,
  resolveBucketProps,
} from './bucket-props.ts'
export type { ListKeysResult } from './coverage.ts'
export { type CoveragePlan, type CoverageVnode, coveragePlan } from './coverage-plan.ts'
export * from './errors.ts'
export { TransportForwarder } from './forwarder.ts'
export type { GetResult, ReadRepairReport } from './get.ts'
export {
  DEFAULT_REQUEST_TIMEOUT_MS,
  type GetOptions,
  KvCoordinator,
  type KvCoordinatorComponents,
  type KvCoordinatorInit,
  type ListKeysOptions,
  type PutOptions,
} from './kv-coordinator.ts'
export type { PutResult } from './put.ts'
export type { ReplicaAnswer, ReplicaFailure } from './replica.ts'
export type { CoordinatorLogger, CoordinatorOptions } from './request.ts'
export {
  kvVnodeProtocol,
  LOCAL_TIMEOUT_MS,
  type LocalVnodes,
  type VnodeCallOptions,
  VnodeClient,
  type VnodeClientInit,
} from './vnode-client.ts'
export {
  DEFAULT_MESSAGE_BYTES_MAX,
  decodeVnodeMessage,
  decodeVnodeReply,
  encodeVnodeMessage,
  encodeVnodeReply,
  REQUEST_ID_BYTES_MAX,
  VNODE_WIRE_VERSION,
  type VnodeCodecInit,
  type VnodeMessage,
  type VnodeReply,
} from './vnode-codec.ts'
export {
  DEFAULT_REPLAY_WINDOW,
  type KvVnodes,
  type ServeVnodesInit,
  serveVnodes,
} from './vnode-server.ts'
