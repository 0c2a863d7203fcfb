import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { values } from '../../src/clock/index.ts'
import {
  DecodeError,
  InvalidArgumentError,
  SeededRandom,
  TooLargeError,
} from '../../src/core/index.ts'
import { decodeObject, encodeObject, type KvObject } from '../../src/kv/index.ts'
import { encodeKept } from '../../src/kv/object.ts'
import { hashKey, partitionOfPosition } from '../../src/ring/index.ts'
import { MemoryStorage, MemoryVolume } from '../../src/storage/memory.ts'
import type { HandoffItem } from '../../src/vnode/index.ts'
import { del, get, kvNode, listKeys, merge, P, put, text, utf8, valuesOf } from './helpers.ts'

const actorOf = (object: KvObject) => object.entries.map((e) => e.actor)

describe('KV vnode: get, put, siblings, delete', () => {
  it('answers an absent key with no values and an empty context', async () => {
    const node = kvNode()
    expect(await get(node, 'b', 'k')).toEqual({
      type: 'get',
      object: undefined,
      values: [],
      context: [],
    })
  })

  it('stores a put under its own actor and supersedes what the context covers', async () => {
    const node = kvNode({ memberId: 'node-a' })
    const first = await put(node, 'b', 'k', 'v1')
    const [actor] = actorOf(first)
    expect(actor).toMatch(/^node-a:[0-9a-f]{16}$/)
    const read = await get(node, 'b', 'k')
    expect(read.values.map(text)).toEqual(['v1'])
    expect(read.context).toEqual([[actor, 1]])
    await put(node, 'b', 'k', 'v2', read.context)
    expect(await valuesOf(node, 'b', 'k')).toEqual(['v2'])
    expect((await get(node, 'b', 'k')).context).toEqual([[actor, 2]])
  })

  it('keeps concurrent writes as siblings until a write that read them all', async () => {
    const node = kvNode()
    const read = await get(node, 'b', 'k')
    await put(node, 'b', 'k', 'x', read.context)
    await put(node, 'b', 'k', 'y', read.context)
    expect((await valuesOf(node, 'b', 'k')).sort()).toEqual(['x', 'y'])
    await put(node, 'b', 'k', 'xy', (await get(node, 'b', 'k')).context)
    expect(await valuesOf(node, 'b', 'k')).toEqual(['xy'])
  })

  it('deletes with a tombstone that is ordered causally like a write', async () => {
    const node = kvNode()
    await put(node, 'b', 'k', 'v1')
    const seen = (await get(node, 'b', 'k')).context
    const deleted = await del(node, 'b', 'k', seen)
    expect(values(deleted)).toEqual([null])
    const read = await get(node, 'b', 'k')
    expect(read.values).toEqual([])
    expect(read.object).toBeDefined() // the tombstone is kept, with its clock
    expect(await listKeys(node, 'b')).toEqual([])
    // A write that read the tombstone supersedes it.
    await put(node, 'b', 'k', 'v2', read.context)
    expect(await valuesOf(node, 'b', 'k')).toEqual(['v2'])
    expect(values((await get(node, 'b', 'k')).object!)).toEqual([utf8('v2')])
  })

  it('a delete that did not see a concurrent write leaves that write as a sibling', async () => {
    const node = kvNode()
    await put(node, 'b', 'k', 'v1')
    const stale = (await get(node, 'b', 'k')).context
    await put(node, 'b', 'k', 'v2', stale)
    await del(node, 'b', 'k', stale)
    expect(await valuesOf(node, 'b', 'k')).toEqual(['v2'])
    expect(await listKeys(node, 'b')).toEqual(['k'])
  })

  it('a delete without a context removes everything the vnode holds for the key', async () => {
    const node = kvNode()
    await put(node, 'b', 'k', 'x')
    await put(node, 'b', 'k', 'y')
    await del(node, 'b', 'k')
    expect(await valuesOf(node, 'b', 'k')).toEqual([])
  })

  it('acknowledges a merge without the object unless asked for it (returnBody)', async () => {
    const a = kvNode()
    const fromB = await put(kvNode({ memberId: 'node-b' }), 'b', 'k', 'x')
    const merge = { type: 'merge', bucket: 'b', key: 'k', object: fromB } as const
    expect(await a.manager.command(P, merge)).toEqual({ type: 'merged' })
    const body = await a.manager.command(P, { ...merge, returnBody: true })
    expect(body).toEqual({ type: 'written', object: fromB })
  })

  it('merges a replica object idempotently, keeping concurrent values as siblings', async () => {
    const a = kvNode({ memberId: 'node-a' })
    const b = kvNode({ memberId: 'node-b', random: new SeededRandom(2) })
    await put(a, 'b', 'k', 'from-a')
    const fromB = await put(b, 'b', 'k', 'from-b')
    const once = await merge(a, 'b', 'k', fromB)
    expect((await valuesOf(a, 'b', 'k')).sort()).toEqual(['from-a', 'from-b'])
    const backend = await a.storage.open(P)
    const before = await backend.size()
    const twice = await merge(a, 'b', 'k', fromB)
    expect(twice).toEqual(once)
    expect(await backend.size()).toEqual(before)
    // Merging into an absent key stores the object as it is.
    await merge(a, 'b', 'fresh', fromB)
    expect(await valuesOf(a, 'b', 'fresh')).toEqual(['from-b'])
  })

  it('refuses values and objects over their limits and leaves the stored object alone', async () => {
    const node = kvNode({ valueBytesMax: 10, objectBytesMax: 65 })
    await expect(put(node, 'b', 'k', 'x'.repeat(11))).rejects.toBeInstanceOf(TooLargeError)
    expect(await get(node, 'b', 'k')).toMatchObject({ object: undefined })
    for (let i = 0; i < 3; i++) await put(node, 'b', 'k', `sibling-${i}`)
    const full = await get(node, 'b', 'k')
    const refused = put(node, 'b', 'k', 'one-more')
    await expect(refused).rejects.toBeInstanceOf(TooLargeError)
    await expect(refused).rejects.toMatchObject({ code: 'ERR_TOO_LARGE', limitBytes: 65 })
    expect(await get(node, 'b', 'k')).toEqual(full)
  })

  it('passes the durable flag to storage: a crash keeps durable writes and drops the others', async () => {
    const volume = new MemoryVolume()
    const storage = new MemoryStorage({ volume })
    const node = kvNode({ storage })
    await put(node, 'b', 'volatile', 'v')
    await node.manager.command(P, {
      type: 'put',
      bucket: 'b',
      key: 'durable',
      value: utf8('d'),
      durable: true,
    })
    await put(node, 'b', 'lost', 'v')
    storage.crash()
    const again = kvNode({ storage: new MemoryStorage({ volume }) })
    // A durable write makes the earlier ones durable too (the memory storage's log order).
    expect(await listKeys(again, 'b')).toEqual(['durable', 'volatile'])
  })

  it('refuses an empty key', async () => {
    await expect(put(kvNode(), 'b', '', 'v')).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})

describe('KV vnode: list keys (coverage)', () => {
  it('lists a bucket’s live keys in byte order, and only that bucket', async () => {
    const node = kvNode()
    for (const key of ['c', 'a', 'b']) await put(node, 'users', key, key)
    await put(node, 'user', 'zz', 'other bucket')
    await put(node, 'usersx', 'a', 'other bucket')
    await put(node, '', 'root', 'empty bucket')
    expect(await listKeys(node, 'users')).toEqual(['a', 'b', 'c'])
    expect(await listKeys(node, 'user')).toEqual(['zz'])
    expect(await listKeys(node, '')).toEqual(['root'])
    expect(await listKeys(node, 'nobody')).toEqual([])
  })

  it('answers only for the keys of the filter’s partitions', async () => {
    const node = kvNode()
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`)
    for (const key of keys) await put(node, 'b', key, 'v')
    const partitionOf = (key: string) => partitionOfPosition(hashKey('b', key), 8)
    const reply = await node.manager.coverage(
      P,
      { type: 'listKeys', bucket: 'b' },
      { partitionCount: 8, partitions: [1, 6] },
    )
    const listed = reply.keys.map(text)
    const expected = keys.filter((k) => [1, 6].includes(partitionOf(k))).sort()
    expect(expected.length).toBeGreaterThan(0)
    expect(listed).toEqual(expected)
  })
})

describe('KV vnode: handoff', () => {
  it('folds, encodes and applies items by merge, so resumed and replayed transfers are harmless', async () => {
    const source = kvNode({ memberId: 'node-a' })
    const target = kvNode({ memberId: 'node-b', random: new SeededRandom(9) })
    for (const key of ['k1', 'k2', 'k3', 'k4']) await put(source, 'b', key, `a-${key}`)
    await put(source, 'b', 'k2', 'a-k2-sibling')
    await del(source, 'b', 'k3', (await get(source, 'b', 'k3')).context)
    await put(target, 'b', 'k1', 'b-k1') // concurrent with the source's k1
    expect(await source.manager.vnode(P).isEmpty()).toMatchObject({
      empty: false,
      size: { items: 4 },
    })

    const from = source.manager.vnode(P)
    const to = target.manager.vnode(P)
    const sent: HandoffItem[] = []
    const send = (limit: number) => async (key: Uint8Array, value: Uint8Array) => {
      await to.handoffData([{ key, value }])
      sent.push({ key, value })
      return sent.length >= limit ? ('stop' as const) : ('continue' as const)
    }
    const first = await from.foldHandoff(send(2))
    expect(first).toMatchObject({ items: 2, complete: false })
    const rest = await from.foldHandoff(send(99), { after: first.cursor })
    expect(rest).toMatchObject({ items: 2, complete: true })
    expect(first.bytes + rest.bytes).toBe(
      sent.reduce((n, item) => n + item.key.length + item.value.length, 0),
    )

    const snapshot = async () =>
      Promise.all(['k1', 'k2', 'k3', 'k4'].map(async (k) => (await get(target, 'b', k)).object))
    const applied = await snapshot()
    expect((await valuesOf(target, 'b', 'k1')).sort()).toEqual(['a-k1', 'b-k1'])
    expect((await valuesOf(target, 'b', 'k2')).sort()).toEqual(['a-k2', 'a-k2-sibling'])
    expect(await valuesOf(target, 'b', 'k3')).toEqual([]) // the tombstone travelled too
    const size = await (await target.storage.open(P)).size()

    // Replay the whole transfer, twice: nothing changes.
    await to.handoffData(sent)
    for (const item of sent) await to.handoffData([item])
    expect(await snapshot()).toEqual(applied)
    expect(await (await target.storage.open(P)).size()).toEqual(size)
  })

  it('refuses malformed handoff items, and writes nothing of a batch that has one', async () => {
    const node = kvNode()
    const host = node.manager.vnode(P)
    const good = encodeObject(
      { entries: [{ actor: 'a:1', counter: 1, values: [utf8('v')] }] },
      1000,
    )
    const keyOf = (key: string) => Uint8Array.of(0, 1, 98, ...utf8(key))
    await expect(
      host.handoffData([{ key: keyOf('k'), value: utf8('not cbor at all') }]),
    ).rejects.toBeInstanceOf(DecodeError)
    await expect(
      host.handoffData([{ key: keyOf('k'), value: encode([2, []]) }]),
    ).rejects.toBeInstanceOf(DecodeError)
    // The epoch record's key, and a bucket with no key, are not object keys.
    for (const key of [Uint8Array.of(0), Uint8Array.of(0, 1, 98)]) {
      await expect(host.handoffData([{ key, value: good }])).rejects.toBeInstanceOf(DecodeError)
    }
    await expect(
      host.handoffData([
        { key: keyOf('j'), value: good },
        { key: keyOf('k'), value: utf8('junk') },
      ]),
    ).rejects.toBeInstanceOf(DecodeError)
    expect(await valuesOf(node, 'b', 'j')).toEqual([])
    await host.handoffData([{ key: keyOf('k'), value: good }])
    expect(await valuesOf(node, 'b', 'k')).toEqual(['v'])
  })

  it("applies a batch durably, storing an absent key's object bytes as they came", async () => {
    const volume = new MemoryVolume()
    const node = kvNode({ storage: new MemoryStorage({ volume }) })
    const value = encodeObject(
      { entries: [{ actor: 'a:1', counter: 1, values: [utf8('v')] }] },
      1000,
    )
    const key = Uint8Array.of(0, 1, 98, 107)
    await node.manager.vnode(P).handoffData([{ key, value }])
    expect(await (await node.storage.open(P)).get(key)).toEqual(value)
    node.storage.crash()
    const again = kvNode({ storage: new MemoryStorage({ volume }) })
    expect(await valuesOf(again, 'b', 'k')).toEqual(['v'])
  })

  it('merges items of one batch that repeat a key, in any order', async () => {
    const node = kvNode()
    const item = (key: number, actor: string, value: string) => ({
      key: Uint8Array.of(0, 1, 98, key),
      value: encodeObject({ entries: [{ actor, counter: 1, values: [utf8(value)] }] }, 1000),
    })
    await node.manager
      .vnode(P)
      .handoffData([
        item(107, 'a:1', 'x'),
        item(108, 'a:1', 'z'),
        item(107, 'b:1', 'y'),
        item(107, 'a:1', 'x'),
      ])
    expect((await valuesOf(node, 'b', 'k')).sort()).toEqual(['x', 'y'])
    expect(await valuesOf(node, 'b', 'l')).toEqual(['z'])
  })

  it('refuses a handed-off object over the object size limit and writes nothing', async () => {
    const node = kvNode({ objectBytesMax: 64 })
    const value = encodeObject(
      { entries: [{ actor: 'a:1', counter: 1, values: [new Uint8Array(100)] }] },
      1000,
    )
    const key = Uint8Array.of(0, 1, 98, 107)
    await expect(node.manager.vnode(P).handoffData([{ key, value }])).rejects.toBeInstanceOf(
      TooLargeError,
    )
    expect(await (await node.storage.open(P)).get(key)).toBeUndefined()
  })

  it('while handing off, reads stay local and writes land here and are forwarded as merges', async () => {
    const node = kvNode()
    await put(node, 'b', 'k', 'before')
    const host = node.manager.vnode(P)
    await host.startHandoff({ type: 'hinted', partition: P, member: 'node-b' })
    expect(await valuesOf(node, 'b', 'k')).toEqual(['before'])
    const context = (await get(node, 'b', 'k')).context
    const reply = await put(node, 'b', 'k', 'during', context)
    expect(node.forwarded).toHaveLength(1)
    const forwarded = node.forwarded[0]!
    // The put's coordinator needs the object back, so the forwarded merge asks for it.
    expect(forwarded).toMatchObject({ type: 'merge', bucket: 'b', key: 'k', returnBody: true })
    expect(forwarded.type === 'merge' && values(forwarded.object)).toEqual([utf8('during')])
    expect(reply).toEqual(forwarded.type === 'merge' && forwarded.object)
    // A replica's merge is forwarded as it came: acknowledged, without the object.
    const fromB = await put(kvNode({ memberId: 'node-b' }), 'b', 'k', 'elsewhere')
    const merged = await node.manager.command(P, {
      type: 'merge',
      bucket: 'b',
      key: 'k',
      object: fromB,
    })
    expect(merged).toEqual({ type: 'merged' })
    expect(node.forwarded[1]).toMatchObject({ type: 'merge', returnBody: false })
    await host.cancelHandoff()
    expect((await valuesOf(node, 'b', 'k')).sort()).toEqual(['during', 'elsewhere'])
  })

  it('after a finished handoff the data and epoch record are gone, so the partition is not restarted', async () => {
    const node = kvNode()
    await put(node, 'b', 'k', 'v')
    expect(await node.storage.partitions()).toEqual([P])
    const host = node.manager.vnode(P)
    await host.startHandoff({ type: 'hinted', partition: P, member: 'node-b' })
    await host.finishHandoff()
    expect(host.status).toBe('forwarding')
    await put(node, 'b', 'k', 'forwarded')
    expect(node.forwarded.map((r) => r.type)).toEqual(['put'])
    await node.manager.stop()
    expect(await node.storage.partitions()).toEqual([])
  })
})

describe('KV object encoding', () => {
  const object: KvObject = {
    entries: [
      { actor: 'a:1', counter: 3, values: [utf8('x'), null] },
      { actor: 'b:2', counter: 1, values: [] },
    ],
  }

  it('round-trips values, tombstones and clocks', () => {
    expect(decodeObject(encodeObject(object, 1000))).toEqual(object)
  })

  it('rejects malformed objects with DecodeError', () => {
    const bad = [
      Uint8Array.of(0xff),
      encode([2, []]),
      encode([1, {}]),
      encode([1, [['a:1', 1]]]),
      encode([1, [['', 1, []]]]),
      encode([
        1,
        [
          ['b:1', 1, []],
          ['a:1', 1, []],
        ],
      ]),
      encode([
        1,
        [
          ['a:1', 1, []],
          ['a:1', 1, []],
        ],
      ]),
      encode([1, [['a:1', 0, []]]]),
      encode([1, [['a:1', 1, [utf8('x'), utf8('y')]]]]),
      encode([1, [['a:1', 1, ['text']]]]),
    ]
    for (const bytes of bad) expect(() => decodeObject(bytes), String(bytes)).toThrow(DecodeError)
  })

  it('encodes an object once: a decoded or kept object answers with the bytes it carries', () => {
    const bytes = encodeObject(object, 1000)
    const decoded = decodeObject(bytes)
    expect(encodeObject(decoded, 1000)).toBe(bytes)
    const kept = encodeKept(object, 1000)
    expect(kept.object).toEqual(object)
    expect(encodeObject(kept.object, 1000)).toBe(kept.bytes)
    expect(kept.bytes).toEqual(bytes)
    // A plain object is encoded afresh each time.
    expect(encodeObject(object, 1000)).not.toBe(bytes)
  })

  it('never lends carried bytes to an object built from a decoded one', () => {
    const decoded = decodeObject(encodeObject(object, 1000))
    const changed: KvObject = { ...decoded, entries: decoded.entries.slice(1) }
    expect(decodeObject(encodeObject(changed, 1000))).toEqual({ entries: object.entries.slice(1) })
  })

  it('holds carried bytes to the size limit too', () => {
    const bytes = encodeObject(object, 1000)
    expect(() => encodeObject(decodeObject(bytes), bytes.length - 1)).toThrow(TooLargeError)
  })

  it('is a storage-backend-agnostic byte string', async () => {
    const storage = new MemoryStorage()
    const node = kvNode({ storage })
    await put(node, 'b', 'k', 'v')
    const backend = await storage.open(P)
    const stored = await backend.get(Uint8Array.of(0, 1, 98, 107))
    expect(values(decodeObject(stored!))).toEqual([utf8('v')])
  })
})
