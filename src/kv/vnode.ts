/**
 * The KV vnode (riak_kv_vnode): one partition of a key/value store on the vnode contract. Each key
 * holds a DVV set of values and tombstones ({@link KvObject}) encoded in the partition's storage.
 *
 * Actor ids and epochs (riak's kv679): the vnode writes as `${memberId}:${epoch}`. The epoch is reused
 * only when the storage holds the epoch record of an incarnation that stopped cleanly; otherwise
 * (empty or wiped storage, or a crash that may have lost writes the record's dots cover) a fresh one
 * is drawn from the Random port. Before its first write an incarnation records its epoch as in use
 * (durably); `terminate` marks it clean. A write whose context shows more events of this actor than
 * the vnode remembers also renews the epoch (`mustRenewEpoch`). So no dot ever names two writes, and a
 * replica that lost data makes siblings, never an older value win.
 */
import {
  type ActorId,
  actorId,
  mustRenewEpoch,
  newEpoch,
  newValue,
  sync,
  update,
} from '../clock/index.ts'
import {
  compareBytes,
  DecodeError,
  equalBytes,
  type Random,
  SolarOrbitError,
  TooLargeError,
} from '../core/index.ts'
import { keyPartBytes, type MemberId } from '../ring/index.ts'
import type { BatchOp, StorageBackend } from '../storage/backend.ts'
import type {
  CommandResult,
  FoldVisitor,
  HandoffCommandResult,
  HandoffDataResult,
  HandoffItem,
  HandoffStartingResult,
  IsEmptyResult,
  KeyFilter,
  VnodeBehaviour,
  VnodeFoldOptions,
  VnodeManager,
} from '../vnode/index.ts'
import { decodeEpochRecord, encodeEpochRecord } from './codec.ts'
import { bucketPrefix, hasPrefix, inFilter, isObjectKey, META_KEY, objectKey } from './keys.ts'
import {
  contextOf,
  decodeObject,
  encodeKept,
  encodeObject,
  type KvObject,
  type KvValue,
  liveValues,
} from './object.ts'
import type { KvCoverageReply, KvCoverageRequest, KvMerge, KvReply, KvRequest } from './protocol.ts'

/** Default of {@link KvVnodeInit.valueBytesMax}: 1 MiB. */
export const DEFAULT_VALUE_BYTES_MAX = 1024 * 1024
/** Default of {@link KvVnodeInit.objectBytesMax}: 4 MiB. */
export const DEFAULT_OBJECT_BYTES_MAX = 4 * 1024 * 1024

/** Options of {@link KvVnode}. */
export interface KvVnodeInit {
  /** This node's member id: the first half of the vnode's actor ids. */
  readonly memberId: MemberId
  /**
   * Source of epochs. It must not replay across restarts of the node (`crypto` in production; in a
   * simulation, a stream forked per boot), or a restarted vnode could draw an epoch it used before.
   */
  readonly random: Random
  /** Largest value of a put, in bytes; larger ones are refused with `TooLargeError`. Default 1 MiB. */
  readonly valueBytesMax?: number
  /**
   * Largest encoded object (every sibling and the clock), in bytes; a write that would exceed it is
   * refused with `TooLargeError` and changes nothing. Keep it at or below the storage's `valueBytesMax`.
   * Default 4 MiB.
   */
  readonly objectBytesMax?: number
}

/** The state of one KV vnode. Immutable: callbacks return a new one. */
export interface KvVnodeState {
  /** The partition's storage. */
  readonly backend: StorageBackend
  /** The epoch of this incarnation. */
  readonly epoch: string
  /** `${memberId}:${epoch}`: the actor of this vnode's writes. */
  readonly actor: ActorId
  /** True once the epoch record marking {@link epoch} in use is on storage. */
  readonly epochStored: boolean
}

/** The KV vnode always answers at once. */
type Result = Extract<CommandResult<KvVnodeState, KvReply>, { kind: 'reply' }>

/** A write applied: the object as stored after it, and the vnode's next state. */
interface Written {
  readonly object: KvObject
  readonly state: KvVnodeState
}

/** The KV service's vnode callbacks; see the module comment. */
export class KvVnode
  implements VnodeBehaviour<KvVnodeState, KvRequest, KvReply, KvCoverageRequest, KvCoverageReply>
{
  readonly #memberId: MemberId
  readonly #random: Random
  readonly #valueBytesMax: number
  readonly #objectBytesMax: number

  constructor(init: KvVnodeInit) {
    this.#memberId = init.memberId
    this.#random = init.random
    this.#valueBytesMax = init.valueBytesMax ?? DEFAULT_VALUE_BYTES_MAX
    this.#objectBytesMax = init.objectBytesMax ?? DEFAULT_OBJECT_BYTES_MAX
  }

  /** Reuses the stored epoch if its incarnation stopped cleanly, else draws a fresh one. */
  async init(_partition: number, backend: StorageBackend): Promise<KvVnodeState> {
    const raw = await backend.get(META_KEY)
    let reused: string | undefined
    if (raw !== undefined) {
      try {
        const record = decodeEpochRecord(raw)
        if (record.clean) reused = record.epoch
      } catch {
        // An unreadable record is treated like a crash: a fresh epoch is always safe.
      }
    }
    const epoch = reused ?? newEpoch(this.#random)
    return {
      backend,
      epoch,
      actor: actorId(this.#memberId, epoch),
      epochStored: false,
    }
  }

  async handleCommand(request: KvRequest, _sender: unknown, state: KvVnodeState): Promise<Result> {
    if (request.type === 'get') {
      const object = await this.#load(state, objectKey(request.bucket, request.key))
      return {
        kind: 'reply',
        reply: { type: 'get', object, values: liveValues(object), context: contextOf(object) },
        state,
      }
    }
    const written = await this.#write(state, request)
    const reply: KvReply =
      request.type === 'merge' && request.returnBody !== true
        ? { type: 'merged' }
        : { type: 'written', object: written.object }
    return { kind: 'reply', reply, state: written.state }
  }

  /** Lists the live keys of a bucket, restricted to `keyFilter`'s partitions when given. */
  async handleCoverage(
    request: KvCoverageRequest,
    keyFilter: KeyFilter | undefined,
    _sender: unknown,
    state: KvVnodeState,
  ): Promise<CommandResult<KvVnodeState, KvCoverageReply>> {
    const bucket = keyPartBytes(request.bucket)
    const prefix = bucketPrefix(bucket)
    const keys: Uint8Array[] = []
    for await (const [storageKey, bytes] of state.backend.fold({ after: prefix })) {
      if (!hasPrefix(storageKey, prefix)) break
      const key = storageKey.subarray(prefix.length)
      if (!inFilter(bucket, key, keyFilter)) continue
      if (liveValues(decodeObject(bytes)).length > 0) keys.push(key)
    }
    return { kind: 'reply', reply: { type: 'keys', keys }, state }
  }

  /** Every handoff may start: data is applied by merge on the target, so nothing needs to settle first. */
  handoffStarting(_target: unknown, state: KvVnodeState): HandoffStartingResult<KvVnodeState> {
    return { kind: 'accept', state }
  }

  handoffCancelled(state: KvVnodeState): KvVnodeState {
    return state
  }

  handoffFinished(_target: unknown, state: KvVnodeState): KvVnodeState {
    return state
  }

  /**
   * While handing off: reads are served locally (the data is still here); writes are applied locally,
   * then their result is forwarded to the target as a merge, so the write lands on both sides with one
   * dot whether the handoff finishes or is cancelled. The target's answer is the reply.
   */
  async handleHandoffCommand(
    request: KvRequest,
    sender: unknown,
    state: KvVnodeState,
  ): Promise<HandoffCommandResult<KvVnodeState, KvRequest, KvReply>> {
    if (request.type === 'get') return this.handleCommand(request, sender, state)
    const written = await this.#write(state, request)
    const forward: KvMerge = {
      type: 'merge',
      bucket: request.bucket,
      key: request.key,
      object: written.object,
      ...(request.durable !== undefined && { durable: request.durable }),
      // The target answers the original request, so it answers in the kind that request expects.
      returnBody: request.type !== 'merge' || request.returnBody === true,
    }
    return { kind: 'forward', state: written.state, request: forward }
  }

  /** Streams every object (tombstones included) in storage-key order, skipping the epoch record. */
  async fold(visitor: FoldVisitor, state: KvVnodeState, options: VnodeFoldOptions): Promise<void> {
    for await (const [key, value] of state.backend.fold({ after: options.after ?? META_KEY })) {
      if (!isObjectKey(key)) continue
      const step = visitor(key, value)
      if ((step instanceof Promise ? await step : step) === 'stop') return
    }
  }

  /**
   * Merges each item's object into the local one (idempotent: a replayed item changes nothing) and
   * writes the results in one durable storage batch. An object whose key is absent here is stored as
   * it came: it decoded strictly, so its bytes are the ones encoding it would give. A key that is not
   * an object key, or an object that does not decode, fails the batch with a `DecodeError`.
   */
  async handleHandoffData(
    items: readonly HandoffItem[],
    state: KvVnodeState,
  ): Promise<HandoffDataResult<KvVnodeState>> {
    let next = state
    const writes: BatchOp[] = []
    const flush = async (): Promise<void> => {
      if (writes.length === 0) return
      next = await this.#storeEpoch(next)
      await state.backend.batch(writes.splice(0), { durable: true })
    }
    try {
      let previousKey: Uint8Array | undefined
      for (const { key, value } of items) {
        if (!isObjectKey(key)) throw new DecodeError('handoff item key is not an object key')
        if (value.length > this.#objectBytesMax) {
          throw new TooLargeError('object', value.length, this.#objectBytesMax)
        }
        const object = decodeObject(value, { views: true })
        // Folds send keys in ascending order; a key that is not must see the writes before it.
        if (previousKey !== undefined && compareBytes(previousKey, key) >= 0) await flush()
        previousKey = key
        writes.push({ type: 'put', key, value: await this.#mergedBytes(state, key, object, value) })
      }
      await flush()
      return { kind: 'ok', state: next }
    } catch (error) {
      if (error instanceof SolarOrbitError) return { kind: 'error', error, state: next }
      throw error
    }
  }

  /** Objects (tombstones included) and their bytes, not counting the epoch record. */
  async isEmpty(state: KvVnodeState): Promise<IsEmptyResult> {
    const size = await state.backend.size()
    const meta = await state.backend.get(META_KEY)
    const items = size.items - (meta === undefined ? 0 : 1)
    const bytes = size.bytes - (meta === undefined ? 0 : META_KEY.length + meta.length)
    return { empty: items === 0, size: { items, bytes } }
  }

  /** Removes everything, the epoch record included: a later incarnation starts with a fresh epoch. */
  async delete(state: KvVnodeState): Promise<KvVnodeState> {
    await state.backend.clear({ durable: true })
    return { ...state, epochStored: false }
  }

  /** Marks the epoch clean (every write of this incarnation is durable once the host closes storage). */
  async terminate(_reason: string, state: KvVnodeState): Promise<void> {
    if (!state.epochStored) return
    await state.backend.put(META_KEY, encodeEpochRecord({ epoch: state.epoch, clean: true }), {
      durable: true,
    })
  }

  /** Applies a write: a put or delete as this vnode's actor, or a merge. */
  #write(
    state: KvVnodeState,
    request: KvRequest & { type: 'put' | 'delete' | 'merge' },
  ): Promise<Written> {
    switch (request.type) {
      case 'put':
        if (request.value.length > this.#valueBytesMax) {
          throw new TooLargeError('value', request.value.length, this.#valueBytesMax)
        }
        return this.#coordinate(state, request, request.value)
      case 'delete':
        return this.#coordinate(state, request, null)
      case 'merge': {
        const storageKey = objectKey(request.bucket, request.key)
        return this.#mergeObject(state, storageKey, request.object, request.durable ?? false)
      }
    }
  }

  /** A put or delete coordinated here: a new dot of this vnode's actor. */
  async #coordinate(
    state: KvVnodeState,
    request: KvRequest & { type: 'put' | 'delete' },
    value: KvValue,
  ): Promise<Written> {
    const storageKey = objectKey(request.bucket, request.key)
    const local = await this.#load(state, storageKey)
    const context =
      request.type === 'delete' && request.context === undefined
        ? contextOf(local)
        : request.context
    const proposal = newValue(context, value)
    let next = state
    if (mustRenewEpoch(proposal, local, state.actor)) {
      const epoch = newEpoch(this.#random)
      next = { ...state, epoch, actor: actorId(this.#memberId, epoch), epochStored: false }
    }
    // Kept with its bytes: the coordinator sends this object on to every other replica.
    const { object, bytes } = encodeKept(update(proposal, local, next.actor), this.#objectBytesMax)
    next = await this.#storeEpoch(next)
    await state.backend.put(storageKey, bytes, { durable: request.durable ?? false })
    return { object, state: next }
  }

  /** Syncs `incoming` into the stored object; writes only when that changes the stored bytes. */
  async #mergeObject(
    state: KvVnodeState,
    storageKey: Uint8Array,
    incoming: KvObject,
    durable: boolean,
  ): Promise<Written> {
    const stored = await state.backend.get(storageKey)
    const object =
      stored === undefined ? incoming : sync(incoming, decodeObject(stored, { views: true }))
    const bytes = encodeObject(object, this.#objectBytesMax)
    // Unchanged bytes need no write, unless this write must be durable: an earlier non-durable write
    // (read repair, say) may have stored the same bytes without making them durable yet.
    if (stored !== undefined && equalBytes(bytes, stored) && !durable) return { object, state }
    const next = await this.#storeEpoch(state)
    await state.backend.put(storageKey, bytes, { durable })
    return { object, state: next }
  }

  /**
   * The bytes to store for a handed-off object: its own `bytes` when the key is absent, else its sync
   * with the stored object. Always a write, even when the stored bytes are equal: a handoff write
   * must be durable, and they may not be yet.
   */
  async #mergedBytes(
    state: KvVnodeState,
    storageKey: Uint8Array,
    incoming: KvObject,
    bytes: Uint8Array,
  ): Promise<Uint8Array> {
    const stored = await state.backend.get(storageKey)
    if (stored === undefined) return bytes
    return encodeObject(sync(incoming, decodeObject(stored)), this.#objectBytesMax)
  }

  /** The stored object; its values are views into the bytes storage read, which are ours alone. */
  async #load(state: KvVnodeState, storageKey: Uint8Array): Promise<KvObject | undefined> {
    const bytes = await state.backend.get(storageKey)
    return bytes === undefined ? undefined : decodeObject(bytes, { views: true })
  }

  /** Records the epoch as in use, durably, before the first write made under it. */
  async #storeEpoch(state: KvVnodeState): Promise<KvVnodeState> {
    if (state.epochStored) return state
    await state.backend.put(META_KEY, encodeEpochRecord({ epoch: state.epoch, clean: false }), {
      durable: true,
    })
    return { ...state, epochStored: true }
  }
}

/** A node's manager of KV vnodes, as the node, the simulator and the tests wire it. */
export type KvVnodeManager = VnodeManager<
  KvVnodeState,
  KvRequest,
  KvReply,
  KvCoverageRequest,
  KvCoverageReply
>
