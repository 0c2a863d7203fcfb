/**
 * `sendEnvelope`: the first frame of a burst leaves at once, the rest of the burst in one write, in
 * order; frames of a busy stream leave together at the end of the event-loop turn.
 */
import type { Stream } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { decodeEnvelope } from '../../src/transport/libp2p/envelope.ts'
import { FrameDecoder } from '../../src/transport/libp2p/frame.ts'
import { BUSY_EXCHANGES, sendEnvelope } from '../../src/transport/libp2p/stream-send.ts'

/** A stream that records what it is given; `needsDrain` makes it ask writers to wait. */
function fakeStream() {
  const writes: Uint8Array[] = []
  let drained: (() => void) | undefined
  const stream = {
    writableNeedsDrain: false,
    closed: false,
    send(data: Uint8Array): boolean {
      if (stream.closed) throw new Error('closed')
      writes.push(data)
      return true
    },
    onDrain(): Promise<void> {
      return new Promise((resolve) => {
        drained = resolve
      })
    },
    drain(): void {
      stream.writableNeedsDrain = false
      drained?.()
    },
  }
  const ids = (): number[][] =>
    writes.map((w) => new FrameDecoder(1 << 20).push(w).map((frame) => decodeEnvelope(frame).id))
  return { stream, asStream: stream as unknown as Stream, writes, ids }
}

const request = (id: number) =>
  ({ kind: 'request', id, payload: Uint8Array.of(id, id, id) }) as const

describe('sendEnvelope', () => {
  it('writes a lone frame at once', async () => {
    const { asStream, ids } = fakeStream()
    const sent = sendEnvelope(asStream, request(1))
    expect(ids()).toEqual([[1]])
    await sent
  })

  it('writes the rest of a burst together, in order', async () => {
    const { asStream, ids } = fakeStream()
    const sent = [1, 2, 3, 4].map((id) => sendEnvelope(asStream, request(id)))
    await Promise.all(sent)
    expect(ids()).toEqual([[1], [2, 3, 4]])
    // A later burst starts afresh.
    await sendEnvelope(asStream, request(5))
    expect(ids()).toEqual([[1], [2, 3, 4], [5]])
  })

  it('waits for drain, then writes what queued meanwhile in one go', async () => {
    const { stream, asStream, ids } = fakeStream()
    stream.writableNeedsDrain = true
    const sent = [1, 2].map((id) => sendEnvelope(asStream, request(id)))
    await Promise.resolve()
    sent.push(sendEnvelope(asStream, request(3)))
    await new Promise((resolve) => setTimeout(resolve, 1))
    expect(ids()).toEqual([])
    stream.drain()
    await Promise.all(sent)
    expect(ids()).toEqual([[1, 2, 3]])
  })

  it('rejects every frame of a write the stream refuses', async () => {
    const { stream, asStream } = fakeStream()
    stream.closed = true
    await expect(sendEnvelope(asStream, request(1))).rejects.toThrow('closed')
    const burst = [2, 3].map((id) => sendEnvelope(asStream, request(id)))
    await expect(Promise.all(burst)).rejects.toThrow('closed')
    await Promise.allSettled(burst)
  })

  it('holds the frames of a busy stream to the end of the turn, then writes them in one go', async () => {
    const { asStream, ids } = fakeStream()
    const busy = BUSY_EXCHANGES + 1
    const sent = [sendEnvelope(asStream, request(1), busy)]
    // Frames produced later in the same turn, by other callbacks, join the same write.
    await Promise.resolve()
    sent.push(sendEnvelope(asStream, request(2), busy))
    await Promise.resolve()
    sent.push(sendEnvelope(asStream, request(3)))
    await Promise.resolve()
    expect(ids()).toEqual([])
    await new Promise((resolve) => setImmediate(resolve))
    await Promise.all(sent)
    expect(ids()).toEqual([[1, 2, 3]])
  })

  it('sends at once while few exchanges are in flight', async () => {
    const { asStream, ids } = fakeStream()
    const sent = sendEnvelope(asStream, request(1), BUSY_EXCHANGES)
    expect(ids()).toEqual([[1]])
    await sent
  })

  it('lets a busy frame leave with the burst a frame sent at once started', async () => {
    const { asStream, ids } = fakeStream()
    const sent = [
      sendEnvelope(asStream, request(1)),
      sendEnvelope(asStream, request(2), BUSY_EXCHANGES + 1),
    ]
    expect(ids()).toEqual([[1]])
    await Promise.all(sent)
    // The burst's microtask flush took the busy frame along: it never waits longer than others.
    expect(ids()).toEqual([[1], [2]])
  })
})
