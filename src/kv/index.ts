/**
 * The reference key/value service on the vnode contract, after riak_kv: `riak_kv_vnode` ({@link KvVnode},
 * one partition's keys, each a dotted version vector set of values and tombstones), `riak_object`
 * ({@link KvObject} and its binary encoding), and actor epochs against kv679. Coordinators (quorum
 * get/put, read repair) and the wire codec of its commands build on this.
 */
export { BUCKET_BYTES_MAX } from './keys.ts'
export {
  contextOf,
  decodeObject,
  encodeObject,
  type KvObject,
  type KvValue,
  liveValues,
  OBJECT_FORMAT_VERSION,
} from './object.ts'
export type * from './protocol.ts'
export * from './vnode.ts'
