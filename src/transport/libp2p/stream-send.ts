/**
 * Writes one envelope to a libp2p v3 stream as one length-prefixed frame, honouring backpressure:
 * `send` returns false when the muxer's buffer is full, and the next write waits for `drain`.
 */
import type { Stream } from '@libp2p/interface'
import { type Envelope, encodeEnvelope } from './envelope.ts'
import { encodeFrame } from './frame.ts'

/**
 * Sends `envelope` on `stream`, first waiting for the stream to drain if it asked to. Rejects if the
 * stream is closed for writing or closes while waiting.
 */
export async function sendEnvelope(stream: Stream, envelope: Envelope): Promise<void> {
  const frame = encodeFrame(encodeEnvelope(envelope))
  if (stream.writableNeedsDrain) await stream.onDrain()
  stream.send(frame)
}
