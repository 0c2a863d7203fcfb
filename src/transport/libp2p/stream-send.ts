/**
 * Writes envelopes to a libp2p v3 stream as length-prefixed frames, honouring backpressure: `send`
 * returns false when the muxer's buffer is full, and the next write waits for `drain`.
 *
 * Frames sent on one stream are coalesced, Nagle-like but bounded by the event loop rather than by a
 * timer or a round trip. Each `send` is a yamux frame, a noise encryption and a socket write, the
 * largest costs of a request here, so fewer and larger writes are what throughput needs; a lone
 * request, though, must not wait. So:
 * - a frame sent while few exchanges are in flight on the stream and nothing waits is written at
 *   once, and the frames that follow it within the same microtask burst go out together in one
 *   `stream.send` from a microtask queued by the first;
 * - a frame sent while more than {@link BUSY_EXCHANGES} exchanges are in flight on the stream (the
 *   caller counts them) waits for the end of the event-loop turn, and leaves in one write with every
 *   frame the turn produced. Measured on a warm three-member cluster, switched at run time: at 64
 *   requests in flight, a third less CPU per quorum op and 15-30% more ops per second. Waiting
 *   whenever anything else is in flight (Nagle's rule) cost a quarter more latency at one request at
 *   a time, because the request that follows a replica's late answer then waits behind that answer.
 * Frames keep their order.
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

/** Exchanges in flight on a stream beyond which its frames wait for the end of the turn. */
export const BUSY_EXCHANGES = 4

/**
 * Sends `envelope` on `stream`, after the stream drained if it asked to. `inFlight` counts the
 * exchanges (requests awaiting answers, or being answered) open on the stream, this one included:
 * above {@link BUSY_EXCHANGES} the frame may wait for the end of the turn to leave with others.
 * Resolves once the frame was handed to the stream; rejects if the stream is closed for writing or
 * closes while waiting.
 */
export function sendEnvelope(stream: Stream, envelope: Envelope, inFlight = 1): Promise<void> {
  const busy = inFlight > BUSY_EXCHANGES
  let found = outboxes.get(stream)
  if (found === undefined) {
    found = { frames: [], settles: [], flushing: false }
    outboxes.set(stream, found)
  }
  const box = found
  if (!busy && !box.flushing && !stream.writableNeedsDrain) {
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
    const later = busy ? endOfTurn : queueMicrotask
    later(() => void flush(stream, box))
  }
  return sent
}

/**
 * Runs `task` once the event loop's current turn is done, after the I/O it is handling: Node's and
 * Deno's `setImmediate`, or in a browser a message to itself, which runs as the next task.
 */
const endOfTurn: (task: () => void) => void =
  typeof globalThis.setImmediate === 'function'
    ? (task) => {
        globalThis.setImmediate(task)
      }
    : messageTasks()

function messageTasks(): (task: () => void) => void {
  const channel = new MessageChannel()
  let tasks: (() => void)[] = []
  channel.port1.onmessage = () => {
    const due = tasks
    tasks = []
    for (const task of due) task()
  }
  return (task) => {
    tasks.push(task)
    if (tasks.length === 1) channel.port2.postMessage(null)
  }
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
