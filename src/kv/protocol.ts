/**
 * The KV vnode's commands and replies (riak_kv_vnode's get, put, delete and the replica put of a
 * coordinator's result), and its coverage request (list keys). Buckets and keys are strings (UTF-8)
 * or bytes, as the ring hashes them. Encoding them for the wire is the transport layer's job.
 */
import type { VersionVector } from '../clock/index.ts'
import type { KeyPart } from '../ring/index.ts'
import type { KvObject } from './object.ts'

/** Reads a key. Answered with a {@link KvGetReply}. */
export interface KvGet {
  readonly type: 'get'
  readonly bucket: KeyPart
  /** A non-empty key. */
  readonly key: KeyPart
}

/**
 * Writes a value as this vnode's actor (the coordinating replica). Values the context covers are
 * superseded; the others stay as siblings. Answered with a {@link KvWriteReply}.
 */
export interface KvPut {
  readonly type: 'put'
  readonly bucket: KeyPart
  readonly key: KeyPart
  readonly value: Uint8Array
  /** The context of the read this write follows (from a get). Default: none, a blind write that supersedes nothing. */
  readonly context?: VersionVector
  /** Resolve only once the write is on stable storage. Default false. */
  readonly durable?: boolean
}

/**
 * Deletes as this vnode's actor: writes a tombstone that supersedes what the context covers, so the
 * delete is ordered causally like any write (a concurrent write survives as a sibling). Answered with
 * a {@link KvWriteReply}.
 */
export interface KvDelete {
  readonly type: 'delete'
  readonly bucket: KeyPart
  readonly key: KeyPart
  /** What the deleter saw. Default: everything this vnode holds for the key now. */
  readonly context?: VersionVector
  /** Resolve only once the tombstone is on stable storage. Default false. */
  readonly durable?: boolean
}

/**
 * Merges an object written elsewhere (a coordinator's result sent to the other replicas, read
 * repair, a write forwarded during handoff). Idempotent. Answered with a {@link KvMergedReply}, or with
 * a {@link KvWriteReply} when {@link returnBody} is set.
 */
export interface KvMerge {
  readonly type: 'merge'
  readonly bucket: KeyPart
  readonly key: KeyPart
  /** A valid object, as `decodeObject` returns them (a peer's object comes through it). */
  readonly object: KvObject
  /** Resolve only once the merged object is on stable storage. Default false. */
  readonly durable?: boolean
  /**
   * Answer with the object as stored after the merge (riak's `returnbody`), which only a write
   * forwarded during handoff needs: the put's replicas and read repair take a bare acknowledgement,
   * which saves sending the object back. Default false.
   */
  readonly returnBody?: boolean
}

/** A command of the KV vnode. */
export type KvRequest = KvGet | KvPut | KvDelete | KvMerge

/** The answer to a {@link KvGet}. */
export interface KvGetReply {
  readonly type: 'get'
  /** The stored object (with tombstones and the full clock, for the coordinator's merge), or undefined when the key is absent. */
  readonly object: KvObject | undefined
  /** The live values: none when absent or deleted, more than one for siblings. */
  readonly values: readonly Uint8Array[]
  /** The context to pass with the next write of the key. */
  readonly context: VersionVector
}

/**
 * The answer to a {@link KvPut}, a {@link KvDelete} or a {@link KvMerge} with `returnBody`: the object
 * as stored after it.
 */
export interface KvWriteReply {
  readonly type: 'written'
  readonly object: KvObject
}

/** The answer to a {@link KvMerge} without `returnBody`: the merge is applied (on stable storage if durable). */
export interface KvMergedReply {
  readonly type: 'merged'
}

/** A reply of the KV vnode. */
export type KvReply = KvGetReply | KvWriteReply | KvMergedReply

/** Lists the keys of a bucket that have a live value (deleted keys are left out). */
export interface KvListKeys {
  readonly type: 'listKeys'
  readonly bucket: KeyPart
}

/** A coverage request of the KV vnode. */
export type KvCoverageRequest = KvListKeys

/** The answer to a {@link KvListKeys}: keys in unsigned byte order. */
export interface KvKeysReply {
  readonly type: 'keys'
  readonly keys: readonly Uint8Array[]
}

/** A coverage reply of the KV vnode. */
export type KvCoverageReply = KvKeysReply
