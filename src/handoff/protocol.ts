/**
 * The handoff wire protocol, `/solar-orbit/<cluster>/handoff/1.0.0`: three requests, each answered by
 * an acknowledgement, all strict CBOR arrays of format 2 (riak_core_handoff_sender/receiver exchange
 * Erlang terms over a raw socket; we use the Transport's request/response and a validated codec).
 *
 * - start  `[2, 0, transferId, partition, type, from]`        →  ack `[2, 0, transferId]`
 * - batch  `[2, 1, transferId, seq, [key, value, key, ...]]`  →  ack `[2, 1, transferId, seq, itemCount]`
 * - finish `[2, 2, transferId]`                               →  ack `[2, 2, transferId]`
 *
 * `type` is `'ownership'` or `'hinted'`; a batch's items are the keys and values the source vnode
 * folded, flattened, opaque here. A batch ack means every item of the batch was applied by the
 * receiving vnode. (Format 1 carried items that the vnode had encoded itself: one copy more each.)
 */
import {
  DecodeError,
  decodeCbor,
  encodeCbor,
  readBytes,
  readCount,
  readList,
  readText,
  readTuple,
} from '../core/index.ts'
import type { PeerId } from '../transport/index.ts'
import type { HandoffItem, HandoffTarget } from '../vnode/index.ts'

/** Format number of every message and acknowledgement. */
export const HANDOFF_FORMAT = 2

/** Longest transfer id, in characters. */
export const TRANSFER_ID_LENGTH_MAX = 256

/** The protocol id of the handoff protocol of `cluster`. */
export function handoffProtocol(cluster: string): string {
  return `/solar-orbit/${cluster}/handoff/1.0.0`
}

/** Opens a transfer: the receiver starts (or resets) a session for it. */
export interface StartMessage {
  readonly kind: 'start'
  /** Chosen by the sender, unique among its transfers; the same across retries of one transfer. */
  readonly transferId: string
  readonly partition: number
  readonly type: HandoffTarget['type']
  /** The sending member; must be the peer the request came from. */
  readonly from: PeerId
}

/** Items of a transfer, to apply in any order (the vnode applies them by merge). */
export interface BatchMessage {
  readonly kind: 'batch'
  readonly transferId: string
  /** Increases by one per batch over the whole transfer, across retries; a repeated seq is a duplicate. */
  readonly seq: number
  readonly items: readonly HandoffItem[]
}

/** Closes a transfer after every batch was acknowledged; the receiver drops the session. */
export interface FinishMessage {
  readonly kind: 'finish'
  readonly transferId: string
}

/** A request of the handoff protocol. */
export type HandoffMessage = StartMessage | BatchMessage | FinishMessage

/** The answer to a {@link HandoffMessage}: the same kind and transfer id (and, for a batch, its seq and item count). */
export type HandoffAck =
  | { readonly kind: 'start'; readonly transferId: string }
  | {
      readonly kind: 'batch'
      readonly transferId: string
      readonly seq: number
      readonly items: number
    }
  | { readonly kind: 'finish'; readonly transferId: string }

/** Limits a decoder enforces before anything acts on a message. */
export interface HandoffLimits {
  /** Largest encoded message, in bytes. */
  readonly messageBytesMax: number
  /** Most items in one batch. */
  readonly batchItemsMax: number
}

/** Defaults of {@link HandoffLimits}: 4 MiB (the libp2p transport's message limit) and 10,000 items. */
export const defaultHandoffLimits: HandoffLimits = Object.freeze({
  messageBytesMax: 4 * 1024 * 1024,
  batchItemsMax: 10_000,
})

const TAGS = { start: 0, batch: 1, finish: 2 } as const
const KINDS = ['start', 'batch', 'finish'] as const

/** The bytes of `message`. */
export function encodeHandoffMessage(message: HandoffMessage): Uint8Array {
  switch (message.kind) {
    case 'start':
      return encodeCbor([
        HANDOFF_FORMAT,
        TAGS.start,
        message.transferId,
        message.partition,
        message.type,
        message.from,
      ])
    case 'batch':
      return encodeCbor([
        HANDOFF_FORMAT,
        TAGS.batch,
        message.transferId,
        message.seq,
        message.items.flatMap((item) => [item.key, item.value]),
      ])
    case 'finish':
      return encodeCbor([HANDOFF_FORMAT, TAGS.finish, message.transferId])
  }
}

/**
 * The message in `bytes`; throws `DecodeError` when they are oversized, malformed or of another
 * format. A batch's keys and values are views into `bytes`, read once on their way to the vnode.
 */
export function decodeHandoffMessage(
  bytes: Uint8Array,
  limits: HandoffLimits = defaultHandoffLimits,
): HandoffMessage {
  const fields = header(
    decodeCbor(bytes, limits.messageBytesMax, 'handoff message', { views: true }),
    'handoff message',
  )
  const kind = fields.kind
  const transferId = readTransferId(fields.rest[0])
  if (kind === 'start') {
    const [, partition, type, from] = readTuple(fields.rest, 4, 'handoff start')
    return {
      kind,
      transferId,
      partition: readCount(partition, 'handoff partition'),
      type: readType(type),
      from: readText(from, 'handoff sender'),
    }
  }
  if (kind === 'batch') {
    const [, seq, rawItems] = readTuple(fields.rest, 3, 'handoff batch')
    const list = readList(rawItems, 'handoff items')
    if (list.length % 2 !== 0) throw new DecodeError('handoff items must be key and value pairs')
    if (list.length / 2 > limits.batchItemsMax) {
      throw new DecodeError(
        `handoff batch has ${list.length / 2} items, over the limit of ${limits.batchItemsMax}`,
      )
    }
    const items: HandoffItem[] = []
    for (let i = 0; i < list.length; i += 2) {
      items.push({
        key: readBytes(list[i], 'handoff item key'),
        value: readBytes(list[i + 1], 'handoff item value'),
      })
    }
    return { kind, transferId, seq: readCount(seq, 'handoff seq'), items }
  }
  readTuple(fields.rest, 1, 'handoff finish')
  return { kind, transferId }
}

/** The bytes of `ack`. */
export function encodeHandoffAck(ack: HandoffAck): Uint8Array {
  if (ack.kind === 'batch') {
    return encodeCbor([HANDOFF_FORMAT, TAGS.batch, ack.transferId, ack.seq, ack.items])
  }
  return encodeCbor([HANDOFF_FORMAT, TAGS[ack.kind], ack.transferId])
}

/** Largest acknowledgement we accept, in bytes. */
const ACK_BYTES_MAX = 1024

/** The acknowledgement in `bytes`; throws `DecodeError` when they are not a valid ack of our format. */
export function decodeHandoffAck(bytes: Uint8Array): HandoffAck {
  const fields = header(decodeCbor(bytes, ACK_BYTES_MAX, 'handoff ack'), 'handoff ack')
  const transferId = readTransferId(fields.rest[0])
  if (fields.kind === 'batch') {
    const [, seq, items] = readTuple(fields.rest, 3, 'handoff batch ack')
    return {
      kind: 'batch',
      transferId,
      seq: readCount(seq, 'handoff ack seq'),
      items: readCount(items, 'handoff ack items'),
    }
  }
  readTuple(fields.rest, 1, `handoff ${fields.kind} ack`)
  return { kind: fields.kind, transferId }
}

/** Checks the format and tag of a decoded message; returns its kind and the fields after the tag. */
function header(
  value: unknown,
  what: string,
): { kind: HandoffMessage['kind']; rest: readonly unknown[] } {
  const fields = readList(value, what)
  if (fields.length < 3) throw new DecodeError(`${what} is too short`)
  if (fields[0] !== HANDOFF_FORMAT) {
    throw new DecodeError(`${what} has unknown format ${String(fields[0])}`)
  }
  const kind = KINDS[fields[1] as number]
  if (kind === undefined || !Number.isInteger(fields[1])) {
    throw new DecodeError(`${what} has unknown kind ${String(fields[1])}`)
  }
  return { kind, rest: fields.slice(2) }
}

function readTransferId(value: unknown): string {
  const id = readText(value, 'transfer id')
  if (id.length > TRANSFER_ID_LENGTH_MAX) {
    throw new DecodeError(`transfer id is longer than ${TRANSFER_ID_LENGTH_MAX} characters`)
  }
  return id
}

function readType(value: unknown): HandoffTarget['type'] {
  if (value !== 'ownership' && value !== 'hinted') {
    throw new DecodeError('handoff type must be "ownership" or "hinted"')
  }
  return value
}
