import { encode } from 'cborg'
import { describe, expect, it, vi } from 'vitest'
import {
  decodeVnodeMessage,
  decodeVnodeReply,
  encodeVnodeMessage,
  encodeVnodeReply,
  NotMemberError,
  QuorumError,
  TransportForwarder,
  VnodeClient,
  type VnodeMessage,
} from '../../src/coordinator/index.ts'
import { DecodeError, SeededRandom, TooLargeError } from '../../src/core/index.ts'
import type { KvObject, KvRequest } from '../../src/kv/index.ts'
import { keyPartition } from '../../src/ring/index.ts'
import { RemoteError, TimeoutError } from '../../src/transport/index.ts'
import { createKvCluster, storedValues, text, utf8 } from './fixture.ts'

const object: KvObject = {
  entries: [
    { actor: 'a:1', counter: 2, values: [utf8('x'), null] },
    { actor: 'b:2', counter: 1, values: [] },
  ],
}

const messages: VnodeMessage[] = [
  { kind: 'command', partition: 3, request: { type: 'get', bucket: 'b', key: 'k' } },
  {
    kind: 'command',
    partition: 0,
    request: { type: 'get', bucket: utf8('raw'), key: Uint8Array.of(0, 255) },
  },
  {
    kind: 'command',
    partition: 7,
    request: {
      type: 'put',
      bucket: '',
      key: 'k',
      value: utf8('v'),
      context: [
        ['a:1', 2],
        ['b:2', 1],
      ],
      durable: true,
    },
    requestId: new Uint8Array(32).fill(9),
  },
  {
    kind: 'command',
    partition: 7,
    request: { type: 'put', bucket: 'b', key: 'k', value: new Uint8Array(), durable: false },
  },
  {
    kind: 'command',
    partition: 1,
    request: { type: 'delete', bucket: 'b', key: 'k', durable: false },
  },
  {
    kind: 'command',
    partition: 1,
    request: { type: 'delete', bucket: 'b', key: 'k', durable: true },
    requestId: Uint8Array.of(1, 2, 3),
  },
  {
    kind: 'command',
    partition: 1,
    request: { type: 'merge', bucket: 'b', key: 'k', object, durable: true, returnBody: false },
  },
  {
    kind: 'command',
    partition: 1,
    request: { type: 'merge', bucket: 'b', key: 'k', object, durable: false, returnBody: true },
  },
  {
    kind: 'coverage',
    partition: 15,
    request: { type: 'listKeys', bucket: 'b' },
    keyFilter: { partitionCount: 16, partitions: [0, 15] },
  },
  {
    kind: 'coverage',
    partition: 2,
    request: { type: 'listKeys', bucket: 'b' },
    keyFilter: undefined,
  },
]

describe('vnode wire codec', () => {
  it('round-trips every request', () => {
    for (const message of messages) {
      expect(decodeVnodeMessage(encodeVnodeMessage(message))).toEqual(message)
    }
  })

  it('decodes a request without copying its values: they are views into the message', () => {
    const value = new Uint8Array(1024).fill(7)
    const written: KvObject = { entries: [{ actor: 'a:1', counter: 1, values: [value] }] }
    const viewsInto = (bytes: Uint8Array, part: Uint8Array): boolean => part.buffer === bytes.buffer
    const put = encodeVnodeMessage({
      kind: 'command',
      partition: 1,
      request: { type: 'put', bucket: 'b', key: 'k', value, durable: false },
    })
    const decodedPut = decodeVnodeMessage(put)
    if (decodedPut.request.type !== 'put') throw new Error('expected a put')
    expect(viewsInto(put, decodedPut.request.value)).toBe(true)
    const merge = encodeVnodeMessage({
      kind: 'command',
      partition: 1,
      request: { type: 'merge', bucket: 'b', key: 'k', object: written, durable: false },
    })
    const decodedMerge = decodeVnodeMessage(merge)
    if (decodedMerge.request.type !== 'merge') throw new Error('expected a merge')
    const [mergedValue] = decodedMerge.request.object.entries[0]!.values
    expect(mergedValue).toEqual(value)
    expect(viewsInto(merge, mergedValue!)).toBe(true)
  })

  it('round-trips every reply, deriving values and context of a get from its object', () => {
    const get = decodeVnodeReply(encodeVnodeReply({ type: 'get', object, values: [], context: [] }))
    expect(get).toEqual({
      type: 'get',
      object,
      values: [utf8('x')],
      context: [
        ['a:1', 2],
        ['b:2', 1],
      ],
    })
    const absent = { type: 'get', object: undefined, values: [], context: [] } as const
    expect(decodeVnodeReply(encodeVnodeReply(absent))).toEqual(absent)
    expect(decodeVnodeReply(encodeVnodeReply({ type: 'written', object }))).toEqual({
      type: 'written',
      object,
    })
    expect(decodeVnodeReply(encodeVnodeReply({ type: 'merged' }))).toEqual({ type: 'merged' })
    const keys = { type: 'keys', keys: [utf8('a'), utf8('b')] } as const
    expect(decodeVnodeReply(encodeVnodeReply(keys))).toEqual(keys)
  })

  it('acknowledges a merge in a few bytes, without the object', () => {
    const merged = encodeVnodeReply({ type: 'merged' })
    expect(merged.byteLength).toBeLessThan(16)
    expect(encodeVnodeReply({ type: 'written', object }).byteLength).toBeGreaterThan(
      merged.byteLength,
    )
  })

  it('gives each merge acknowledgement its own buffer, and reads one however it was encoded', () => {
    const first = encodeVnodeReply({ type: 'merged' })
    first.fill(0)
    expect(decodeVnodeReply(encodeVnodeReply({ type: 'merged' }))).toEqual({ type: 'merged' })
    // The same reply through the generic encoder, as another implementation would write it.
    expect(decodeVnodeReply(encode([2, 'merged', null]))).toEqual({ type: 'merged' })
    expect(() => decodeVnodeReply(first)).toThrow(DecodeError)
  })

  it.each([
    ['not CBOR', Uint8Array.of(0xff, 0x00)],
    ['not an array', encode({ a: 1 })],
    ['an unknown version', encode([3, 'get', 0, 'b', 'k'])],
    ['the previous format 1', encode([1, 'get', 0, 'b', 'k'])],
    ['a format-1 merge', encode([1, 'merge', 0, 'b', 'k', encode([1, []]), false])],
    ['a merge without returnBody', encode([2, 'merge', 0, 'b', 'k', encode([1, []]), false])],
    ['a non-boolean returnBody', encode([2, 'merge', 0, 'b', 'k', encode([1, []]), false, 1])],
    ['an unknown request', encode([2, 'scan', 0, 'b', 'k'])],
    ['a missing field', encode([2, 'get', 0, 'b'])],
    ['an extra field', encode([2, 'get', 0, 'b', 'k', 1])],
    ['an empty key', encode([2, 'get', 0, 'b', ''])],
    ['a negative partition', encode([2, 'get', -1, 'b', 'k'])],
    ['a partition past the largest ring', encode([2, 'get', 16384, 'b', 'k'])],
    ['a numeric key', encode([2, 'get', 0, 'b', 5])],
    ['a non-boolean durable', encode([2, 'delete', 0, 'b', 'k', null, 1, null])],
    ['an empty request id', encode([2, 'delete', 0, 'b', 'k', null, true, new Uint8Array()])],
    ['a long request id', encode([2, 'delete', 0, 'b', 'k', null, true, new Uint8Array(33)])],
    ['a text request id', encode([2, 'delete', 0, 'b', 'k', null, true, 'id'])],
    [
      'an unsorted context',
      encode([
        2,
        'delete',
        0,
        'b',
        'k',
        [
          ['b', 1],
          ['a', 1],
        ],
        false,
        null,
      ]),
    ],
    ['a zero context counter', encode([2, 'delete', 0, 'b', 'k', [['a', 0]], false, null])],
    [
      'a malformed object',
      encode([2, 'merge', 0, 'b', 'k', encode([1, [['a', 0, []]]]), false, false]),
    ],
    ['a bad filter Q', encode([2, 'listKeys', 0, 'b', [12, [1]]])],
    ['a filter partition out of range', encode([2, 'listKeys', 0, 'b', [16, [16]]])],
  ])('refuses a request with %s as DecodeError', (_, bytes) => {
    expect(() => decodeVnodeMessage(bytes)).toThrow(DecodeError)
  })

  it('refuses oversized messages both ways', () => {
    const big: VnodeMessage = {
      kind: 'command',
      partition: 0,
      request: { type: 'put', bucket: 'b', key: 'k', value: new Uint8Array(2000), durable: false },
    }
    expect(() => encodeVnodeMessage(big, { messageBytesMax: 1000 })).toThrow(TooLargeError)
    const bytes = encodeVnodeMessage(big)
    expect(() => decodeVnodeMessage(bytes, { messageBytesMax: 1000 })).toThrow(DecodeError)
  })

  it('refuses malformed replies', () => {
    expect(() => decodeVnodeReply(encode([2, 'written', null]))).toThrow(DecodeError)
    expect(() => decodeVnodeReply(encode([2, 'keys', ['text']]))).toThrow(DecodeError)
    expect(() => decodeVnodeReply(encode([2, 'ok', null]))).toThrow(DecodeError)
    expect(() => decodeVnodeReply(encode([2, 'merged', encode([1, []])]))).toThrow(DecodeError)
    expect(() => decodeVnodeReply(encode([1, 'written', encode([1, []])]))).toThrow(DecodeError)
  })
})

describe('vnode server and client over the simulated network', () => {
  it('refuses a peer that is not a member with ERR_NOT_MEMBER, on the wire and in a quorum', async () => {
    const cluster = await createKvCluster()
    const intruder = cluster.network.createTransport('intruder')
    await intruder.start()
    const client = new VnodeClient({
      transport: intruder,
      protocol: cluster.protocol,
      random: new SeededRandom(3),
    })
    const error = await cluster.run(
      client.command('node-0', 0, { type: 'get', bucket: 'b', key: 'k' }).catch((e: unknown) => e),
    )
    expect(error).toBeInstanceOf(RemoteError)
    expect((error as RemoteError).remoteCode).toBe(NotMemberError.code)
    // A member is served; once it is removed from the member set, it is refused too.
    const member = cluster.node('node-1').client
    await cluster.run(member.command('node-0', 0, { type: 'get', bucket: 'b', key: 'k' }))
    cluster.members.delete('node-1')
    const refused = await cluster.run(
      cluster
        .node('node-1')
        .coordinator.get('b', 'k')
        .catch((e: unknown) => e),
    )
    expect(refused).toBeInstanceOf(QuorumError)
    const codes = (refused as QuorumError).failures.map((f) => f.code)
    expect(codes.filter((code) => code === NotMemberError.code).length).toBeGreaterThanOrEqual(2)
  })

  it('answers malformed bytes with ERR_DECODE and keeps serving', async () => {
    const cluster = await createKvCluster()
    const from = cluster.node('node-1').transport
    const formatOne = encode([1, 'get', 0, 'b', 'k'])
    for (const bytes of [Uint8Array.of(0xff), encode([2, 'get', 0, 'b']), encode('x'), formatOne]) {
      const error = await cluster.run(
        from.request('node-0', cluster.protocol, bytes).catch((e: unknown) => e),
      )
      expect(error).toBeInstanceOf(RemoteError)
      expect((error as RemoteError).remoteCode).toBe(DecodeError.code)
    }
    const reply = await cluster.run(
      cluster.node('node-1').client.command('node-0', 0, { type: 'get', bucket: 'b', key: 'k' }),
    )
    expect(reply.type).toBe('get')
  })

  it('applies a duplicated put once, answering the duplicate with the first reply', async () => {
    const cluster = await createKvCluster()
    const put: VnodeMessage = {
      kind: 'command',
      partition: 2,
      request: { type: 'put', bucket: 'b', key: 'k', value: utf8('once'), durable: false },
      requestId: Uint8Array.of(7),
    }
    const bytes = encodeVnodeMessage(put)
    const from = cluster.node('node-1').transport
    const send = () => cluster.run(from.request('node-0', cluster.protocol, bytes))
    const first = await send()
    expect(await send()).toEqual(first)
    expect(await storedValues(cluster.node('node-0'), 2, 'b', 'k')).toEqual(['once'])
    // Another request id is another write: a sibling of the first (both blind).
    const other = encodeVnodeMessage({ ...put, requestId: Uint8Array.of(8) })
    await cluster.run(from.request('node-0', cluster.protocol, other))
    expect(await storedValues(cluster.node('node-0'), 2, 'b', 'k')).toEqual(['once', 'once'])
  })

  it('keeps one value per write when the network duplicates every message', async () => {
    const cluster = await createKvCluster({ links: { duplicateRate: 1 } })
    for (let i = 0; i < 10; i++) {
      const key = `k${i}`
      await cluster.run(cluster.nodes[i % 5]!.coordinator.put('b', key, utf8(key)))
      const got = await cluster.run(cluster.nodes[0]!.coordinator.get('b', key, { r: 3 }))
      expect(got.values.map(text)).toEqual([key])
    }
  })

  it('passes a vnode failure back as its code', async () => {
    const cluster = await createKvCluster()
    const error = await cluster.run(
      cluster
        .node('node-1')
        .client.command('node-0', 0, {
          type: 'put',
          bucket: 'b',
          key: 'k',
          value: new Uint8Array(2 * 1024 * 1024),
        })
        .catch((e: unknown) => e),
    )
    expect((error as RemoteError).remoteCode).toBe(TooLargeError.code)
  })

  it('serves a coordinator’s own replica in-process: no request to itself crosses the transport', async () => {
    const cluster = await createKvCluster()
    const partition = keyPartition(cluster.ring, 'b', 'k')
    const self = cluster.ring.owners[partition]!
    const node = cluster.node(self)
    const requests = vi.spyOn(node.transport, 'request')
    const put = await cluster.run(node.coordinator.put('b', 'k', utf8('v')))
    expect(put.coordinator.member).toBe(self)
    const got = await cluster.run(node.coordinator.get('b', 'k', { r: 3 }))
    expect(got.values.map(text)).toEqual(['v'])
    expect(requests.mock.calls.map(([peer]) => peer)).not.toContain(self)
    expect(requests).toHaveBeenCalled()
    expect(await storedValues(node, partition, 'b', 'k')).toEqual(['v'])
  })

  it('gives a local request the deadline and signal of a remote one, and its own copy of a value', async () => {
    const cluster = await createKvCluster()
    const transport = cluster.node('node-0').transport
    const seen: KvRequest[] = []
    const client = new VnodeClient({
      transport,
      protocol: cluster.protocol,
      random: new SeededRandom(4),
      local: {
        scheduler: cluster.scheduler,
        vnodes: {
          command: (_partition, request) => {
            seen.push(request)
            return new Promise(() => {}) // a vnode that never answers
          },
          coverage: () => new Promise(() => {}),
        },
      },
    })
    const get = { type: 'get', bucket: 'b', key: 'k' } as const
    const late = client.command('node-0', 0, get, { timeoutMs: 50 }).catch((e: unknown) => e)
    expect(await cluster.run(late)).toBeInstanceOf(TimeoutError)
    const listing = client
      .coverage('node-0', 0, { type: 'listKeys', bucket: 'b' }, undefined, { timeoutMs: 50 })
      .catch((e: unknown) => e)
    expect(await cluster.run(listing)).toBeInstanceOf(TimeoutError)
    const controller = new AbortController()
    const aborted = client
      .command('node-0', 0, get, { signal: controller.signal })
      .catch((e: unknown) => e)
    controller.abort(new Error('caller gave up'))
    expect(await cluster.run(aborted)).toEqual(new Error('caller gave up'))
    const value = utf8('mine')
    void client.command('node-0', 0, { type: 'put', bucket: 'b', key: 'k', value })
    value.fill(0)
    const put = seen.at(-1)
    expect(put?.type === 'put' && text(put.value)).toBe('mine')
  })

  it('forwards a handing-off vnode’s requests to the target member (TransportForwarder)', async () => {
    const cluster = await createKvCluster()
    const forwarder = new TransportForwarder(cluster.node('node-0').client)
    const target = { type: 'ownership', partition: 4, member: 'node-3' } as const
    const written = await cluster.run(
      forwarder.command(target, { type: 'put', bucket: 'b', key: 'k', value: utf8('fwd') }),
    )
    expect(written.type).toBe('written')
    expect(await storedValues(cluster.node('node-3'), 4, 'b', 'k')).toEqual(['fwd'])
    // Coverage is forwarded with its key filter: a filter without the key's partition hides it.
    const own = keyPartition(cluster.ring, 'b', 'k')
    const list = (partitions: number[]) =>
      cluster.run(
        forwarder.coverage(
          target,
          { type: 'listKeys', bucket: 'b' },
          {
            partitionCount: 16,
            partitions,
          },
        ),
      )
    expect((await list([own])).keys.map(text)).toEqual(['k'])
    expect((await list([(own + 1) % 16])).keys).toEqual([])
  })
})
