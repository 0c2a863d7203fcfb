/**
 * What the libp2p transport does with peers that break the protocol or may not use it: garbage and
 * oversized frames, an unknown protocol version, the authorize hook; and its stream use (one
 * long-lived stream per peer and protocol, reading paused past the concurrency limit).
 */
import type { Stream } from '@libp2p/interface'
import { UnsupportedProtocolError as Libp2pUnsupportedProtocolError } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { afterEach, describe, expect, it } from 'vitest'
import { DecodeError, TooLargeError } from '../../src/core/index.ts'
import { RemoteError, UnsupportedProtocolError } from '../../src/transport/index.ts'
import {
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
} from '../../src/transport/libp2p/envelope.ts'
import { encodeFrame, FrameDecoder } from '../../src/transport/libp2p/frame.ts'
import { type Libp2pTransport, UnauthorizedError } from '../../src/transport/libp2p/index.ts'
import { type LocalMesh, startLocalMesh } from '../integration/libp2p-mesh.ts'
import { rejection } from '../support/rejection.ts'

const echo = '/solar-orbit/test/echo/1.0.0'
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (data: Uint8Array): string => new TextDecoder().decode(data)

/** A raw stream from `from` to `to` on `protocol`, with the envelopes it received and its closing. */
async function rawStream(from: Libp2pTransport, to: Libp2pTransport, protocol = echo) {
  const stream: Stream = await from.node.dialProtocol(peerIdFromString(to.self), protocol)
  const received: Envelope[] = []
  const decoder = new FrameDecoder(1 << 20)
  let arrived: () => void = () => {}
  stream.addEventListener('message', (event) => {
    for (const frame of decoder.push(event.data.subarray())) received.push(decodeEnvelope(frame))
    arrived()
  })
  const closed = new Promise<void>((resolve) => stream.addEventListener('close', () => resolve()))
  return {
    stream,
    closed,
    /** Resolves with the first `count` envelopes once they arrived. */
    async next(count: number): Promise<Envelope[]> {
      while (received.length < count) await new Promise<void>((resolve) => (arrived = resolve))
      return received.slice(0, count)
    },
  }
}

describe('Libp2pTransport on the wire', () => {
  let mesh: LocalMesh | undefined

  afterEach(async () => {
    await mesh?.teardown()
    mesh = undefined
  })

  async function pair(limits: { maxMessageBytes?: number; maxConcurrentRequests?: number } = {}) {
    mesh = await startLocalMesh(2, () => limits)
    const [a, b] = mesh.transports as [Libp2pTransport, Libp2pTransport]
    b.handle(echo, (request, from) => bytes(`${from}:${text(request)}`))
    return { a, b }
  }

  it('answers a malformed envelope with ERR_DECODE under its id and keeps serving the stream', async () => {
    const { a, b } = await pair()
    const raw = await rawStream(a, b)
    raw.stream.send(encodeFrame([Uint8Array.of(9, 0, 0, 0, 77, 1, 2)])) // unknown kind, id 77
    raw.stream.send(encodeFrame([Uint8Array.of(2, 0, 0, 0, 78)])) // a response, on an inbound stream
    raw.stream.send(encodeFrame([Uint8Array.of(1, 0)])) // shorter than a header: no id to tell
    raw.stream.send(encodeFrame([Uint8Array.of(1, 0, 0, 0, 79), bytes('ok')]))
    const answers = await raw.next(4)
    const byId = new Map(answers.map((e) => [e.id, e]))
    expect(byId.get(77)).toMatchObject({ kind: 'error', code: 'ERR_DECODE' })
    expect(byId.get(78)).toMatchObject({ kind: 'error', code: 'ERR_DECODE' })
    expect(byId.get(0)).toMatchObject({ kind: 'error', code: 'ERR_DECODE' })
    expect(byId.get(79)).toMatchObject({ kind: 'response', payload: bytes(`${a.self}:ok`) })
    expect(raw.stream.status).toBe('open')
  })

  it('answers unframeable bytes with ERR_DECODE and drops the stream, then serves new ones', async () => {
    const { a, b } = await pair()
    const raw = await rawStream(a, b)
    raw.stream.send(new Uint8Array(8).fill(0xff)) // a length prefix that never ends
    expect(await raw.next(1)).toEqual([
      expect.objectContaining({ kind: 'error', id: 0, code: 'ERR_DECODE' }),
    ])
    await raw.closed
    expect(text(await a.request(b.self, echo, bytes('after')))).toBe(`${a.self}:after`)
  })

  it('refuses an oversized frame from its prefix alone, with ERR_TOO_LARGE', async () => {
    const { a, b } = await pair({ maxMessageBytes: 1024 })
    const raw = await rawStream(a, b)
    raw.stream.send(encodeFrame([new Uint8Array(5000)]).subarray(0, 2)) // the prefix of 5000 bytes
    expect(await raw.next(1)).toEqual([
      expect.objectContaining({ kind: 'error', id: 0, code: TooLargeError.code }),
    ])
    await raw.closed
  })

  it('refuses to send an oversized request, and answers an oversized response with ERR_TOO_LARGE', async () => {
    const { a, b } = await pair({ maxMessageBytes: 1024 })
    const tooBig = await rejection(a.request(b.self, echo, new Uint8Array(1025)))
    expect(tooBig).toBeInstanceOf(TooLargeError)
    b.handle('/solar-orbit/test/mirror/1.0.0', (request) => request)
    const largest = new Uint8Array(1024).fill(3)
    expect(await a.request(b.self, '/solar-orbit/test/mirror/1.0.0', largest)).toEqual(largest)
    b.handle('/solar-orbit/test/inflate/1.0.0', () => new Uint8Array(4096))
    const error = await rejection(a.request(b.self, '/solar-orbit/test/inflate/1.0.0', bytes('')))
    expect(error).toBeInstanceOf(RemoteError)
    expect((error as RemoteError).remoteCode).toBe(TooLargeError.code)
  })

  it('rejects with DecodeError when the responder answers garbage, and opens a fresh stream next', async () => {
    const { a, b } = await pair()
    let answers = 0
    await b.node.handle('/solar-orbit/test/rogue/1.0.0', (stream) => {
      stream.addEventListener('message', () => {
        // First a frame that is no envelope, then an answer to the next stream's first request.
        stream.send(
          answers++ === 0
            ? encodeFrame([Uint8Array.of(7)])
            : encodeFrame([Uint8Array.of(2, 0, 0, 0, 1)]),
        )
      })
    })
    const error = await rejection(a.request(b.self, '/solar-orbit/test/rogue/1.0.0', bytes('?')))
    expect(error).toBeInstanceOf(DecodeError)
    expect(await a.request(b.self, '/solar-orbit/test/rogue/1.0.0', bytes('?'))).toEqual(
      new Uint8Array(),
    )
  })

  it('fails every waiting request at once when the responder reports a stream error', async () => {
    const { a, b } = await pair()
    await b.node.handle('/solar-orbit/test/broken/1.0.0', (stream) => {
      let seen = 0
      stream.addEventListener('message', () => {
        if (++seen === 1) return // let the requests pile up, then give up on the stream
        stream.send(
          encodeFrame(
            encodeEnvelope({ kind: 'error', id: 0, code: 'ERR_DECODE', message: 'lost' }),
          ),
        )
      })
    })
    const waiting = [1, 2].map((i) =>
      rejection(
        a.request(b.self, '/solar-orbit/test/broken/1.0.0', Uint8Array.of(i), {
          timeoutMs: 20_000,
        }),
      ),
    )
    await new Promise((resolve) => setTimeout(resolve, 50))
    a.request(b.self, '/solar-orbit/test/broken/1.0.0', Uint8Array.of(3)).catch(() => {})
    for (const error of await Promise.all(waiting)) {
      expect(error).toBeInstanceOf(RemoteError)
      expect((error as RemoteError).remoteCode).toBe('ERR_DECODE')
    }
  })

  it('serves again after a stop and a start, with its handlers and subscriptions', async () => {
    const { a, b } = await pair()
    const heard: string[] = []
    b.subscribe('solar-orbit/test/gossip', (data) => heard.push(text(data)))
    const left = new Promise<void>((resolve) =>
      a.addEventListener('peer:disconnect', (event) => event.detail === b.self && resolve()),
    )
    await b.stop()
    await left
    await b.start()
    await a.connect(b.multiaddrs()[0]!)
    expect(text(await a.request(b.self, echo, bytes('back')))).toBe(`${a.self}:back`)
    for (let i = 0; i < 50 && heard.length === 0; i++) {
      a.broadcast('solar-orbit/test/gossip', bytes('welcome'))
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(heard[0]).toBe('welcome')
  })

  it('refuses an unknown protocol version at negotiation, and still serves the known one', async () => {
    const { a, b } = await pair()
    const newer = '/solar-orbit/test/echo/9.0.0'
    const error = await rejection(a.request(b.self, newer, bytes('hi')))
    expect(error).toBeInstanceOf(UnsupportedProtocolError)
    expect((error as UnsupportedProtocolError).protocol).toBe(newer)
    await expect(a.node.dialProtocol(peerIdFromString(b.self), newer)).rejects.toBeInstanceOf(
      Libp2pUnsupportedProtocolError,
    )
    expect(text(await a.request(b.self, echo, bytes('v1')))).toBe(`${a.self}:v1`)
  })

  it('asks the authorize hook per request and refuses with ERR_UNAUTHORIZED', async () => {
    const asked: string[] = []
    let allowed = ''
    mesh = await startLocalMesh(3, (i) =>
      i === 1
        ? {
            authorize: async (peer, protocol) => {
              asked.push(`${peer} ${protocol}`)
              return peer === allowed
            },
          }
        : {},
    )
    const [a, b, c] = mesh.transports as [Libp2pTransport, Libp2pTransport, Libp2pTransport]
    b.handle(echo, (request, from) => bytes(`${from}:${text(request)}`))
    allowed = c.self
    const refused = await rejection(a.request(b.self, echo, bytes('let me in')))
    expect(refused).toBeInstanceOf(RemoteError)
    expect((refused as RemoteError).remoteCode).toBe(UnauthorizedError.code)
    expect((refused as RemoteError).peer).toBe(b.self)
    expect(text(await c.request(b.self, echo, bytes('member')))).toBe(`${c.self}:member`)
    expect(asked).toEqual([`${a.self} ${echo}`, `${c.self} ${echo}`])
    allowed = a.self // membership changed: the same stream now carries a's requests
    expect(text(await a.request(b.self, echo, bytes('joined')))).toBe(`${a.self}:joined`)
  })

  it('carries all requests to a peer and protocol on one long-lived stream', async () => {
    const { a, b } = await pair()
    await Promise.all(Array.from({ length: 100 }, (_, i) => a.request(b.self, echo, bytes(`${i}`))))
    await a.request(b.self, echo, bytes('later'))
    const [connection] = b.node.getConnections(peerIdFromString(a.self))
    expect(connection!.streams.filter((s) => s.protocol === echo)).toHaveLength(1)
  })

  it('stops reading a stream at maxConcurrentRequests and resumes as handlers finish', async () => {
    mesh = await startLocalMesh(2, () => ({ maxConcurrentRequests: 2 }))
    const [a, b] = mesh.transports as [Libp2pTransport, Libp2pTransport]
    const release: Array<() => void> = []
    b.handle('/solar-orbit/test/gate/1.0.0', (request) => {
      return new Promise<Uint8Array>((resolve) => release.push(() => resolve(request)))
    })
    const requests = Array.from({ length: 6 }, (_, i) =>
      a.request(b.self, '/solar-orbit/test/gate/1.0.0', Uint8Array.of(i)),
    )
    const pause = () => new Promise((resolve) => setTimeout(resolve, 100))
    await pause()
    expect(release).toHaveLength(2)
    let started = 2
    while (started < 6) {
      release.shift()!()
      await pause()
      started++
      expect(release).toHaveLength(2) // one finished, one more read
    }
    for (const next of release.splice(0)) next()
    expect((await Promise.all(requests)).map((r) => r[0])).toEqual([0, 1, 2, 3, 4, 5])
  })
})
