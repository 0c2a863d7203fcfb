/** Builds KV vnode managers on memory storage for the KV tests, with typed shortcuts for commands. */
import type { VersionVector } from '../../src/clock/index.ts'
import { type Random, SeededRandom } from '../../src/core/index.ts'
import {
  type KvGetReply,
  type KvObject,
  type KvReply,
  type KvRequest,
  KvVnode,
  type KvVnodeInit,
  type KvVnodeManager,
  type KvWriteReply,
} from '../../src/kv/index.ts'
import { MemoryStorage } from '../../src/storage/memory.ts'
import { VnodeManager } from '../../src/vnode/index.ts'

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

export interface KvNode {
  manager: KvVnodeManager
  storage: MemoryStorage
  /** Requests the vnodes forwarded while handing off or forwarding. */
  forwarded: KvRequest[]
}

/** A node running KV vnodes on `storage` (default: a fresh memory storage). */
export function kvNode(
  options: Partial<KvVnodeInit> & { storage?: MemoryStorage; random?: Random } = {},
): KvNode {
  const storage = options.storage ?? new MemoryStorage()
  const forwarded: KvRequest[] = []
  const behaviour = new KvVnode({
    memberId: options.memberId ?? 'node-a',
    random: options.random ?? new SeededRandom(1),
    ...(options.valueBytesMax !== undefined && { valueBytesMax: options.valueBytesMax }),
    ...(options.objectBytesMax !== undefined && { objectBytesMax: options.objectBytesMax }),
  })
  const manager: KvVnodeManager = new VnodeManager({
    behaviour,
    storage,
    forwarder: {
      async command(_target, request) {
        forwarded.push(request)
        if (request.type === 'get') throw new Error('reads are not forwarded in these tests')
        if (request.type === 'merge' && request.returnBody !== true) return { type: 'merged' }
        return {
          type: 'written',
          object: request.type === 'merge' ? request.object : { entries: [] },
        }
      },
      async coverage() {
        return { type: 'keys', keys: [] }
      },
    },
  })
  return { manager, storage, forwarded }
}

/** The partition every single-partition test uses. */
export const P = 5

export async function get(node: KvNode, bucket: string, key: string): Promise<KvGetReply> {
  const reply = await node.manager.command(P, { type: 'get', bucket, key })
  if (reply.type !== 'get') throw new Error(`expected a get reply, got ${reply.type}`)
  return reply
}

async function written(reply: Promise<KvReply>): Promise<KvObject> {
  const r = await reply
  if (r.type !== 'written') throw new Error(`expected a write reply, got ${r.type}`)
  return (r as KvWriteReply).object
}

export function put(
  node: KvNode,
  bucket: string,
  key: string,
  value: string,
  context?: VersionVector,
): Promise<KvObject> {
  return written(
    node.manager.command(P, {
      type: 'put',
      bucket,
      key,
      value: utf8(value),
      ...(context && { context }),
    }),
  )
}

export function del(
  node: KvNode,
  bucket: string,
  key: string,
  context?: VersionVector,
): Promise<KvObject> {
  return written(
    node.manager.command(P, { type: 'delete', bucket, key, ...(context && { context }) }),
  )
}

export function merge(
  node: KvNode,
  bucket: string,
  key: string,
  object: KvObject,
): Promise<KvObject> {
  return written(node.manager.command(P, { type: 'merge', bucket, key, object, returnBody: true }))
}

/** The live values of a key as strings. */
export async function valuesOf(node: KvNode, bucket: string, key: string): Promise<string[]> {
  return (await get(node, bucket, key)).values.map(text)
}

export async function listKeys(node: KvNode, bucket: string): Promise<string[]> {
  const reply = await node.manager.coverage(P, { type: 'listKeys', bucket })
  return reply.keys.map(text)
}
