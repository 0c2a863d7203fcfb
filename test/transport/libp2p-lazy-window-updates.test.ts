/**
 * `lazyWindowUpdates`: yamux over an in-memory connection pair, with and without the wrapper, reading
 * the yamux frames each side sends.
 */
import { yamux } from '@chainsafe/libp2p-yamux'
import type { MultiaddrConnection, Stream, StreamMuxerFactory } from '@libp2p/interface'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { describe, expect, it, vi } from 'vitest'
import { lazyWindowUpdates } from '../../src/transport/libp2p/lazy-window-updates.ts'

const HEADER_BYTES = 12
const DATA = 0
const WINDOW_UPDATE = 1
/** SYN and ACK: the window updates that open a stream, which the wrapper leaves alone. */
const OPENING_FLAGS = 0x1 | 0x2
/** yamux's initial stream window, from its specification. */
const INITIAL_WINDOW = 256 * 1024

/** Counts the plain window updates (not opening a stream) in the yamux frames written to `connection`. */
function countWindowUpdates(connection: MultiaddrConnection): { readonly count: number } {
  const counter = { count: 0 }
  let pending = new Uint8Array(0)
  const send = connection.send.bind(connection)
  vi.spyOn(connection, 'send').mockImplementation((data) => {
    const bytes = data instanceof Uint8Array ? data : data.subarray()
    const joined = new Uint8Array(pending.byteLength + bytes.byteLength)
    joined.set(pending)
    joined.set(bytes, pending.byteLength)
    let offset = 0
    while (joined.byteLength - offset >= HEADER_BYTES) {
      const view = new DataView(joined.buffer, joined.byteOffset + offset, HEADER_BYTES)
      const type = view.getUint8(1)
      const flags = view.getUint16(2)
      const length = view.getUint32(8)
      const frameBytes = HEADER_BYTES + (type === DATA ? length : 0)
      if (joined.byteLength - offset < frameBytes) break
      if (type === WINDOW_UPDATE && (flags & OPENING_FLAGS) === 0) counter.count++
      offset += frameBytes
    }
    pending = joined.slice(offset)
    return send(data)
  })
  return counter
}

/** Makes yamux muxers, wrapped or not (yamux's factory ignores the node's components). */
type MuxerFactory = (components: object) => StreamMuxerFactory

/** A dialler and a listener muxer over a fresh in-memory connection, both made by `factory`. */
function muxedPair(factory: MuxerFactory) {
  const [outbound, inbound] = multiaddrConnectionPair()
  const fromListener = countWindowUpdates(inbound)
  const fromDialler = countWindowUpdates(outbound)
  const dialler = factory({}).createStreamMuxer(outbound)
  const listener = factory({}).createStreamMuxer(inbound)
  const accepted = new Promise<Stream>((resolve) => {
    listener.addEventListener('stream', (event) => resolve(event.detail), { once: true })
  })
  return { dialler, listener, accepted, fromListener, fromDialler }
}

/** Sends `count` messages of `bytes` on `stream`, each after the echo of the one before. */
async function pingPong(stream: Stream, count: number, bytes: number): Promise<void> {
  let received = 0
  let answered: () => void = () => {}
  stream.addEventListener('message', (event) => {
    received += event.data.byteLength
    if (received >= bytes) {
      received -= bytes
      answered()
    }
  })
  for (let i = 0; i < count; i++) {
    const echoed = new Promise<void>((resolve) => {
      answered = resolve
    })
    stream.send(new Uint8Array(bytes).fill(i))
    await echoed
  }
}

/** The plain window updates each side sends over 200 echoed messages of 1 KB on one stream. */
async function pingPongOver(factory: MuxerFactory) {
  const { dialler, accepted, fromListener, fromDialler } = muxedPair(factory)
  const stream = await dialler.createStream()
  const serving = accepted.then(echo)
  await pingPong(stream, 200, 1024)
  await serving
  return { fromListener: fromListener.count, fromDialler: fromDialler.count }
}

function echo(stream: Stream): void {
  stream.addEventListener('message', (event) => stream.send(event.data))
}

/** Resolves with everything `stream` receives once `bytes` arrived. */
function receive(stream: Stream, bytes: number): Promise<Uint8Array> {
  const all = new Uint8Array(bytes)
  let offset = 0
  return new Promise((resolve) => {
    stream.addEventListener('message', (event) => {
      all.set(event.data.subarray(), offset)
      offset += event.data.byteLength
      if (offset >= bytes) resolve(all)
    })
  })
}

/** Writes `data` in chunks of 64 KB, waiting for drain when the stream asks to. */
async function write(stream: Stream, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.byteLength; offset += 64 * 1024) {
    if (!stream.send(data.subarray(offset, offset + 64 * 1024))) await stream.onDrain()
  }
}

describe('lazyWindowUpdates', () => {
  it('grants window once half of it is used, not after every message', async () => {
    // 200 round trips of 1 KB: 200 KB each way, past half the initial window once.
    const { fromListener, fromDialler } = await pingPongOver(lazyWindowUpdates(yamux()))
    expect(fromListener).toBe(1)
    expect(fromDialler).toBe(1)
  })

  it('is needed: plain yamux grants window after every message', async () => {
    // Fails once yamux grants lazily itself: the wrapper can go then.
    const { fromListener, fromDialler } = await pingPongOver(yamux())
    expect(fromListener).toBeGreaterThanOrEqual(200)
    expect(fromDialler).toBeGreaterThanOrEqual(199)
  })

  it('keeps a bulk transfer flowing, byte for byte, to a plain yamux peer and from one', async () => {
    const data = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 7) % 251)
    const pairs: [MuxerFactory, MuxerFactory][] = [
      [yamux(), lazyWindowUpdates(yamux())],
      [lazyWindowUpdates(yamux()), yamux()],
    ]
    for (const [sender, receiver] of pairs) {
      const [outbound, inbound] = multiaddrConnectionPair()
      const dialler = sender({}).createStreamMuxer(outbound)
      const listener = receiver({}).createStreamMuxer(inbound)
      const arrived = new Promise<Uint8Array>((resolve) => {
        listener.addEventListener('stream', (event) =>
          resolve(receive(event.detail, data.byteLength)),
        )
      })
      const stream = await dialler.createStream()
      await write(stream, data)
      expect(await arrived).toEqual(data)
    }
  })

  it('stops the sender while the reader is paused, and lets it finish on resume', async () => {
    const { dialler, accepted } = muxedPair(lazyWindowUpdates(yamux()))
    const stream = await dialler.createStream()
    // The first bytes announce the stream to the listener.
    stream.send(new Uint8Array(1))
    const reader = await accepted
    reader.pause()
    const data = new Uint8Array(1024 * 1024).fill(3)
    const writing = write(stream, data)
    await vi.waitFor(() => expect(stream.writableNeedsDrain).toBe(true))
    // Paused, the reader granted nothing: the writer stopped within the initial window.
    expect(reader.readBufferLength).toBeLessThanOrEqual(INITIAL_WINDOW)
    const arrived = receive(reader, 1 + data.byteLength)
    reader.resume()
    await writing
    expect((await arrived).subarray(1)).toEqual(data)
  })
})
