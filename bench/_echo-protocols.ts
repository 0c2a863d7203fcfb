/**
 * The two echo protocols of the raw echo baseline, shared by its server and client: a stream per
 * request (`lpStream`: write one frame, read one frame, close) and a long-lived stream whose frames
 * start with a 4-byte request id, so many requests can be in flight on it at once. No envelope, no
 * handler dispatch: the floor the Solar Orbit transport is compared against. The server also serves
 * {@link ECHO_TRANSPORT_PROTOCOL} through `Libp2pTransport`, to measure what the adapter adds.
 */
import type { Stream } from '@libp2p/interface'
import { encodeFrame, FrameDecoder } from '../src/transport/libp2p/frame.ts'

/** One request per stream. */
export const ECHO_STREAM_PROTOCOL = '/solar-orbit/bench/echo-stream/1.0.0'
/** Many requests per stream, told apart by a 4-byte id. */
export const ECHO_MUX_PROTOCOL = '/solar-orbit/bench/echo-mux/1.0.0'
/** Served through `Libp2pTransport` (envelope, handler dispatch), for comparison with the raw modes. */
export const ECHO_TRANSPORT_PROTOCOL = '/solar-orbit/bench/echo/1.0.0'
/** Streams allowed per connection and protocol, both ways: above the highest concurrency measured. */
export const STREAM_LIMIT = 1024
/** Largest echo frame accepted. */
const MAX_FRAME_BYTES = 1024 * 1024

/** Echoes every frame of `stream` back as it arrives, until the stream ends. */
export function serveMuxEcho(stream: Stream): void {
  const decoder = new FrameDecoder(MAX_FRAME_BYTES)
  stream.addEventListener('message', (event) => {
    try {
      for (const frame of decoder.push(event.data.subarray())) stream.send(encodeFrame([frame]))
    } catch (error) {
      stream.abort(error as Error)
    }
  })
  stream.addEventListener('remoteCloseWrite', () => {
    stream.close().catch(() => {})
  })
}

/** The client end of one long-lived echo stream; {@link echo} may be called concurrently. */
export class MuxEchoClient {
  private readonly stream: Stream
  private readonly pending = new Map<number, (frame: Uint8Array) => void>()
  private nextId = 0

  constructor(stream: Stream) {
    this.stream = stream
    const decoder = new FrameDecoder(MAX_FRAME_BYTES)
    stream.addEventListener('message', (event) => {
      for (const frame of decoder.push(event.data.subarray())) {
        const id = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0)
        this.pending.get(id)?.(frame)
        this.pending.delete(id)
      }
    })
  }

  /** Sends `payload` under a fresh id and resolves with the echoed frame. */
  async echo(payload: Uint8Array): Promise<Uint8Array> {
    const id = this.nextId++ >>> 0
    const header = new Uint8Array(4)
    new DataView(header.buffer).setUint32(0, id)
    const answer = new Promise<Uint8Array>((resolve) => this.pending.set(id, resolve))
    if (this.stream.writableNeedsDrain) await this.stream.onDrain()
    this.stream.send(encodeFrame([header, payload]))
    return answer
  }

  /** Closes the stream. */
  async close(): Promise<void> {
    await this.stream.close()
  }
}
