/**
 * The wire format of the KV vnode protocol: a command or coverage request addressed to one partition,
 * and the vnode's reply. Strict CBOR through the core codec; every message is a versioned array,
 * validated field by field on decode, so bytes from a peer become a message or a `DecodeError`. Objects
 * travel as `encodeObject` bytes and come back through `decodeObject`.
 *
 * Format 2, requests (`durable` and `returnBody` are booleans, `context` a version vector
 * `[[actor, counter], ...]` or null, `requestId` null or 1 to {@link REQUEST_ID_BYTES_MAX} bytes naming
 * one write of its sender):
 * - `[2, 'get', partition, bucket, key]`
 * - `[2, 'put', partition, bucket, key, value, context, durable, requestId]`
 * - `[2, 'delete', partition, bucket, key, context, durable, requestId]`
 * - `[2, 'merge', partition, bucket, key, object, durable, returnBody]`
 * - `[2, 'listKeys', partition, bucket, filter]`, `filter` null or `[partitionCount, [partition, ...]]`
 *
 * Format 2, replies: `[2, 'get', object | null]`, `[2, 'written', object]`, `[2, 'merged', null]`,
 * `[2, 'keys', [key, ...]]`. A failure is not a reply: the server throws, and the transport carries the
 * error's code back. Format 1 (a merge always answered with the object) is refused with a
 * `DecodeError`, as any unknown format.
 */
import type { VersionVector } from '../clock/index.ts'
import {
  DecodeError,
  decodeCbor,
  encodeCbor,
  equalBytes,
  readBytes,
  readCount,
  readList,
  readText,
  requireAscending,
  TooLargeError,
} from '../core/index.ts'
import {
  contextOf,
  decodeObject,
  encodeObject,
  type KvCoverageReply,
  type KvCoverageRequest,
  type KvObject,
  type KvReply,
  type KvRequest,
  liveValues,
} from '../kv/index.ts'
import { type KeyPart, MAX_PARTITIONS, MIN_PARTITIONS } from '../ring/index.ts'
import type { KeyFilter } from '../vnode/index.ts'

/** The format version this codec writes and accepts. */
export const VNODE_WIRE_VERSION = 2

/** Default of {@link VnodeCodecInit.messageBytesMax}: 8 MiB (two of the KV vnode's default 4 MiB objects, and room). */
export const DEFAULT_MESSAGE_BYTES_MAX = 8 * 1024 * 1024

/** Largest request id of a put or delete, in bytes. */
export const REQUEST_ID_BYTES_MAX = 32

/** Options of the vnode codec. */
export interface VnodeCodecInit {
  /**
   * Largest message, in bytes, encoded or decoded: larger ones are refused (`TooLargeError` on
   * encode, `DecodeError` on decode). Default {@link DEFAULT_MESSAGE_BYTES_MAX}.
   */
  readonly messageBytesMax?: number
}

/** One request of the vnode protocol: a command or a coverage request for the vnode of `partition`. */
export type VnodeMessage =
  | {
      readonly kind: 'command'
      readonly partition: number
      readonly request: KvRequest
      /**
       * Names a put or delete among its sender's requests, so the server applies a duplicated
       * delivery once (a put is not idempotent: applied twice it makes two dots). Optional.
       */
      readonly requestId?: Uint8Array
    }
  | {
      readonly kind: 'coverage'
      readonly partition: number
      readonly request: KvCoverageRequest
      readonly keyFilter: KeyFilter | undefined
    }

/** A reply of the vnode protocol. */
export type VnodeReply = KvReply | KvCoverageReply

/** `message` as bytes. Throws `TooLargeError` when an object or the message is over the limit. */
export function encodeVnodeMessage(message: VnodeMessage, init: VnodeCodecInit = {}): Uint8Array {
  const limit = init.messageBytesMax ?? DEFAULT_MESSAGE_BYTES_MAX
  const { partition, request } = message
  let fields: unknown[]
  switch (request.type) {
    case 'get':
      fields = [request.bucket, request.key]
      break
    case 'put':
      fields = [
        request.bucket,
        request.key,
        request.value,
        request.context ?? null,
        request.durable ?? false,
        requestIdOf(message),
      ]
      break
    case 'delete':
      fields = [
        request.bucket,
        request.key,
        request.context ?? null,
        request.durable ?? false,
        requestIdOf(message),
      ]
      break
    case 'merge':
      fields = [
        request.bucket,
        request.key,
        encodeObject(request.object, limit),
        request.durable ?? false,
        request.returnBody ?? false,
      ]
      break
    case 'listKeys': {
      const filter = message.kind === 'coverage' ? message.keyFilter : undefined
      fields = [
        request.bucket,
        filter === undefined ? null : [filter.partitionCount, filter.partitions],
      ]
      break
    }
  }
  return checked(
    encodeCbor([VNODE_WIRE_VERSION, request.type, partition, ...fields]),
    limit,
    'vnode message',
  )
}

/** How requests decode: byte strings as views into the message (see {@link decodeVnodeMessage}). */
const VIEWS = { views: true } as const

/**
 * The message in `bytes`; throws `DecodeError` for anything but a valid format-2 message within the
 * limit. Its byte strings (a put's value, a merge's object and values, the request id) are views into
 * `bytes`, not copies: a request lives for one vnode turn, and storage copies what it keeps, so a
 * replica allocates nothing per value. The caller must not change `bytes` afterwards.
 */
export function decodeVnodeMessage(bytes: Uint8Array, init: VnodeCodecInit = {}): VnodeMessage {
  const limit = init.messageBytesMax ?? DEFAULT_MESSAGE_BYTES_MAX
  const fields = readEnvelope(decodeCbor(bytes, limit, 'vnode message', VIEWS), 'vnode message')
  const type = fields[1]
  const partition = readCount(fields[2], 'partition')
  if (partition >= MAX_PARTITIONS) throw new DecodeError(`partition ${partition} is out of range`)
  const bucket = readPart(fields[3], 'bucket', true)
  switch (type) {
    case 'get':
      arity(fields, 5, type)
      return command(partition, { type, bucket, key: readPart(fields[4], 'key') })
    case 'put':
      arity(fields, 9, type)
      return command(
        partition,
        {
          type,
          bucket,
          key: readPart(fields[4], 'key'),
          value: readBytes(fields[5], 'value'),
          ...optionalContext(fields[6]),
          durable: readFlag(fields[7], 'durable'),
        },
        fields[8],
      )
    case 'delete':
      arity(fields, 8, type)
      return command(
        partition,
        {
          type,
          bucket,
          key: readPart(fields[4], 'key'),
          ...optionalContext(fields[5]),
          durable: readFlag(fields[6], 'durable'),
        },
        fields[7],
      )
    case 'merge':
      arity(fields, 8, type)
      return command(partition, {
        type,
        bucket,
        key: readPart(fields[4], 'key'),
        object: decodeObject(readBytes(fields[5], 'object'), VIEWS),
        durable: readFlag(fields[6], 'durable'),
        returnBody: readFlag(fields[7], 'returnBody'),
      })
    case 'listKeys':
      arity(fields, 5, type)
      return {
        kind: 'coverage',
        partition,
        request: { type, bucket },
        keyFilter: fields[4] === null ? undefined : readKeyFilter(fields[4]),
      }
    default:
      throw new DecodeError(`unknown vnode request ${String(type)}`)
  }
}

/** A merge's acknowledgement, the reply a put's replicas send: encoded once, recognised by its bytes. */
const MERGED_REPLY = encodeCbor([VNODE_WIRE_VERSION, 'merged', null])

/** `reply` as bytes. Throws `TooLargeError` when an object or the reply is over the limit. */
export function encodeVnodeReply(reply: VnodeReply, init: VnodeCodecInit = {}): Uint8Array {
  if (reply.type === 'merged') return MERGED_REPLY.slice()
  const limit = init.messageBytesMax ?? DEFAULT_MESSAGE_BYTES_MAX
  let body: unknown
  switch (reply.type) {
    case 'get':
      body = reply.object === undefined ? null : encodeObject(reply.object, limit)
      break
    case 'written':
      body = encodeObject(reply.object, limit)
      break
    case 'keys':
      body = reply.keys
      break
  }
  return checked(encodeCbor([VNODE_WIRE_VERSION, reply.type, body]), limit, 'vnode reply')
}

/** The reply in `bytes`; throws `DecodeError` for anything but a valid format-2 reply within the limit. */
export function decodeVnodeReply(bytes: Uint8Array, init: VnodeCodecInit = {}): VnodeReply {
  if (equalBytes(bytes, MERGED_REPLY)) return { type: 'merged' }
  const limit = init.messageBytesMax ?? DEFAULT_MESSAGE_BYTES_MAX
  const fields = readEnvelope(decodeCbor(bytes, limit, 'vnode reply'), 'vnode reply')
  arity(fields, 3, 'vnode reply')
  const [, type, body] = fields
  switch (type) {
    case 'get': {
      const object = body === null ? undefined : readObject(body)
      return { type, object, values: liveValues(object), context: contextOf(object) }
    }
    case 'written':
      return { type, object: readObject(body) }
    case 'merged':
      if (body !== null) throw new DecodeError('a merged reply has no body')
      return { type }
    case 'keys':
      return { type, keys: readList(body, 'keys').map((key) => readBytes(key, 'key')) }
    default:
      throw new DecodeError(`unknown vnode reply ${String(type)}`)
  }
}

function command(partition: number, request: KvRequest, requestId: unknown = null): VnodeMessage {
  if (requestId === null) return { kind: 'command', partition, request }
  const id = readBytes(requestId, 'request id', REQUEST_ID_BYTES_MAX)
  if (id.length === 0) throw new DecodeError('request id must not be empty')
  return { kind: 'command', partition, request, requestId: id }
}

function requestIdOf(message: VnodeMessage): Uint8Array | null {
  return message.kind === 'command' ? (message.requestId ?? null) : null
}

function checked(bytes: Uint8Array, limit: number, what: string): Uint8Array {
  if (bytes.length > limit) throw new TooLargeError(what, bytes.length, limit)
  return bytes
}

function readEnvelope(value: unknown, what: string): readonly unknown[] {
  const fields = readList(value, what)
  if (fields[0] !== VNODE_WIRE_VERSION) {
    throw new DecodeError(`unknown ${what} version ${String(fields[0])}`)
  }
  return fields
}

function arity(fields: readonly unknown[], length: number, what: string): void {
  if (fields.length !== length) {
    throw new DecodeError(`${what} must have ${length} fields, got ${fields.length}`)
  }
}

function readPart(value: unknown, what: string, allowEmpty = false): KeyPart {
  if (typeof value === 'string') return readText(value, what, allowEmpty)
  const bytes = readBytes(value, what)
  if (!allowEmpty && bytes.length === 0) throw new DecodeError(`${what} must not be empty`)
  return bytes
}

function readFlag(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new DecodeError(`${what} must be a boolean`)
  return value
}

function readObject(value: unknown): KvObject {
  return decodeObject(readBytes(value, 'object'))
}

function optionalContext(value: unknown): { context?: VersionVector } {
  return value === null ? {} : { context: readContext(value) }
}

function readContext(value: unknown): VersionVector {
  const vector = readList(value, 'context').map((entry) => {
    const pair = readList(entry, 'context entry')
    arity(pair, 2, 'context entry')
    const counter = readCount(pair[1], 'context counter')
    if (counter < 1) throw new DecodeError('context counter must be positive')
    return [readText(pair[0], 'context actor'), counter] as const
  })
  requireAscending(
    vector.map(([actor]) => actor),
    'context actors',
  )
  return vector
}

function readKeyFilter(value: unknown): KeyFilter {
  const fields = readList(value, 'key filter')
  arity(fields, 2, 'key filter')
  const partitionCount = readCount(fields[0], 'key filter partition count')
  const isPowerOfTwo = (partitionCount & (partitionCount - 1)) === 0
  if (partitionCount < MIN_PARTITIONS || partitionCount > MAX_PARTITIONS || !isPowerOfTwo) {
    throw new DecodeError(`key filter partition count ${partitionCount} is not a valid Q`)
  }
  const partitions = readList(fields[1], 'key filter partitions').map((p) =>
    readCount(p, 'key filter partition'),
  )
  requireAscending(partitions, 'key filter partitions')
  if (partitions.some((p) => p >= partitionCount)) {
    throw new DecodeError('key filter partition out of range')
  }
  return { partitionCount, partitions }
}
