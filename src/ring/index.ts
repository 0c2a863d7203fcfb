/**
 * The ring: consistent hashing of keys onto Q fixed partitions, which members own them, and who serves a
 * key right now. Maps to riak_core's `chash` (hash.ts, ring.ts), `riak_core_claim` (claim.ts and its
 * phases, claim-report.ts) and `riak_core_apl` (preflist.ts). Everything here is a pure function over
 * immutable values, identical in Node, Deno, browsers and the simulator.
 */
export { claim } from './claim.ts'
export { type PlanReportInit, planReport, ringViolations } from './claim-report.ts'
export { hashKey, KEYSPACE_BITS, type KeyPart, keyPartBytes, murmur3x86_32 } from './hash.ts'
export { type PreflistTarget, preflist } from './preflist.ts'
export {
  createRing,
  keyPartition,
  MAX_PARTITIONS,
  MIN_PARTITIONS,
  ownedCounts,
  ownerOf,
  partitionBits,
  partitionOfPosition,
} from './ring.ts'
export type * from './types.ts'
