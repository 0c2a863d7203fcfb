import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../src/core/index.ts'
import {
  decodeHandoffAck,
  decodeHandoffMessage,
  encodeHandoffAck,
  encodeHandoffMessage,
  type HandoffAck,
  type HandoffMessage,
  handoffProtocol,
  TRANSFER_ID_LENGTH_MAX,
} from '../../src/handoff/index.ts'

const messages: HandoffMessage[] = [
  { kind: 'start', transferId: 't1', partition: 12, type: 'ownership', from: 'peer-a' },
  { kind: 'start', transferId: 't2', partition: 0, type: 'hinted', from: 'peer-b' },
  {
    kind: 'batch',
    transferId: 't1',
    seq: 3,
    items: [
      { key: Uint8Array.of(1, 2), value: new Uint8Array(0) },
      { key: Uint8Array.of(3), value: Uint8Array.of(4, 5) },
    ],
  },
  { kind: 'batch', transferId: 't1', seq: 0, items: [] },
  { kind: 'finish', transferId: 't1' },
]

const acks: HandoffAck[] = [
  { kind: 'start', transferId: 't1' },
  { kind: 'batch', transferId: 't1', seq: 9, items: 500 },
  { kind: 'finish', transferId: 't1' },
]

const rejects = (bytes: Uint8Array, limits?: Parameters<typeof decodeHandoffMessage>[1]) =>
  expect(() => decodeHandoffMessage(bytes, limits)).toThrow(DecodeError)

describe('handoff protocol codec', () => {
  it('names the protocol by cluster and version', () => {
    expect(handoffProtocol('prod')).toBe('/solar-orbit/prod/handoff/1.0.0')
  })

  it.each(messages.map((m) => [m.kind, m]))('round-trips a %s message', (_kind, message) => {
    expect(decodeHandoffMessage(encodeHandoffMessage(message))).toEqual(message)
  })

  it.each(acks.map((a) => [a.kind, a]))('round-trips a %s ack', (_kind, ack) => {
    expect(decodeHandoffAck(encodeHandoffAck(ack))).toEqual(ack)
  })

  it('refuses unknown formats and kinds, wrong shapes and types', () => {
    expect(decodeHandoffMessage(encode([2, 2, 't']))).toEqual({ kind: 'finish', transferId: 't' })
    rejects(encode([1, 2, 't'])) // format 1, whose items the vnode encoded
    rejects(encode([3, 2, 't']))
    rejects(encode([2, 3, 't']))
    rejects(encode([2, 1.5, 't']))
    rejects(encode({ kind: 'finish' }))
    rejects(encode([2, 2]))
    rejects(encode([2, 2, 't', 'extra']))
    rejects(encode([2, 2, '']))
    rejects(encode([2, 2, 'x'.repeat(TRANSFER_ID_LENGTH_MAX + 1)]))
    rejects(encode([2, 0, 't', -1, 'ownership', 'a']))
    rejects(encode([2, 0, 't', 1, 'owner', 'a']))
    rejects(encode([2, 0, 't', 1, 'hinted', '']))
    rejects(encode([2, 1, 't', 0, ['not bytes', Uint8Array.of(1)]]))
    rejects(encode([2, 1, 't', 0, [Uint8Array.of(1), 7]]))
    rejects(encode([2, 1, 't', 0, [Uint8Array.of(1)]])) // a key without its value
    rejects(encode([2, 1, 't', 0, Uint8Array.of(1)]))
    rejects(Uint8Array.of(0xff, 0x00))
    expect(() => decodeHandoffAck(encode([2, 1, 't', 0]))).toThrow(DecodeError)
    expect(() => decodeHandoffAck(encode([2, 4, 't']))).toThrow(DecodeError)
    expect(() => decodeHandoffAck(encode([1, 2, 't']))).toThrow(DecodeError)
  })

  it('enforces the size limits before acting', () => {
    const batch = encodeHandoffMessage({
      kind: 'batch',
      transferId: 't',
      seq: 0,
      items: [1, 2, 3].map((k) => ({ key: Uint8Array.of(k), value: new Uint8Array(100) })),
    })
    rejects(batch, { messageBytesMax: 200, batchItemsMax: 10 })
    rejects(batch, { messageBytesMax: 10_000, batchItemsMax: 2 })
    expect(
      decodeHandoffMessage(batch, { messageBytesMax: 10_000, batchItemsMax: 3 }),
    ).toMatchObject({
      seq: 0,
    })
    expect(() => decodeHandoffAck(new Uint8Array(2000))).toThrow(DecodeError)
  })
})
