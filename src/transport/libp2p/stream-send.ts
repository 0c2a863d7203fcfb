/**
 * Writes envelopes to a libp2p v3 stream as length-prefixed frames, honouring backpressure: `send`
 * returns false when the muxer's buffer is full, and the next write waits for `drain`.
 *
 * Frames sent on one stream in a burst are coalesced (Nagle-like, but without a timer): a frame sent
 * while nothing is waiting is written at once, and the frames that follow it within the same
 * microtask burst go out together in one `stream.send` from a microtask queued by the first. Each
 * `send` is a yamux frame, a noise encryption, a socket write and a window update from the peer, so
 * under load (many requests or answers leaving at once) one write for the lot saves most of that,
 * while a lone request is not delayed at all. Frames keep their order.
 */
import type { Stream } from '@libp2p/interface'
import { type Envelope, encodeEnvelope } from './envelope.ts'
import { encodeFrames } from './frame.ts'

/** Frames waiting to be written on one stream. */
interface Outbox {
  /** Each frame's parts (envelope buffers), unprefixed. */
  frames: Uint8Array[][]
  /** Settles each frame's `sendEnvelope` promise, in the order of `frames`. */
  settles: ((error?: unknown) => void)[]
  /** A flush is queued or running (waiting for drain). */
  flushing: boolean
}

const outboxes = new WeakMap<Stream, Outbox>()

/**
 * Sends `envelope` on `stream`, after the stream drained if it asked to. Resolves once the frame was
 * handed to the stream; rejects if the stream is closed for writing or closes while waiting.
 */
export function sendEnvelope(stream: Stream, envelope: Envelope): Promise<void> {
  let found = outboxes.get(stream)
  if (found === undefined) {
    found = { frames: [], settles: [], flushing: false }
    outboxes.set(stream, found)
  }
  const box = found
  if (!box.flushing && !stream.writableNeedsDrain) {
    // Nothing is waiting: write at once (a lone request is not delayed), and gather the frames that
    // follow within this burst for one write at the end of it.
    box.flushing = true
    queueMicrotask(() => void flush(stream, box))
    try {
      stream.send(encodeFrames([encodeEnvelope(envelope)]))
      return Promise.resolve()
    } catch (error) {
      return Promise.reject(error)
    }
  }
  const sent = new Promise<void>((resolve, reject) => {
    box.settles.push((error) => (error === undefined ? resolve() : reject(error)))
  })
  box.frames.push(encodeEnvelope(envelope))
  if (!box.flushing) {
    box.flushing = true
    queueMicrotask(() => void flush(stream, box))
  }
  return sent
}

/** Writes everything queued on `stream`, waiting for drain first when needed. Never rejects. */
async function flush(stream: Stream, box: Outbox): Promise<void> {
  while (box.frames.length > 0) {
    let failure: unknown
    if (stream.writableNeedsDrain) {
      try {
        await stream.onDrain()
      } catch (error) {
        failure = error ?? new Error('stream closed while waiting to drain')
      }
    }
    // Frames queued while waiting for drain go out in the same write.
    const frames = box.frames
    const settles = box.settles
    box.frames = []
    box.settles = []
    if (failure === undefined) {
      try {
        stream.send(encodeFrames(frames))
      } catch (error) {
        failure = error ?? new Error('stream send failed')
      }
    }
    for (const settle of settles) settle(failure)
  }
  box.flushing = false
}
