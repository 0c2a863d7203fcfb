/**
 * The responder's end of a request stream: decodes each frame, checks it, asks the `authorize` hook,
 * runs the protocol's handler and writes the answer under the request's id. Nothing from the wire
 * reaches a handler before it passed the size limit and envelope validation; every refusal is an
 * error envelope with a stable code, so a peer never waits for an answer that will not come.
 */
import type { Logger, Stream } from '@libp2p/interface'
import { DecodeError, SolarOrbitError, TooLargeError } from '../../core/index.ts'
import type { PeerId, ProtocolHandler } from '../index.ts'
import { toRemoteFailure, UnsupportedProtocolError } from '../index.ts'
import {
  decodeEnvelope,
  type Envelope,
  maxEnvelopeBytes,
  peekRequestId,
  STREAM_ERROR_ID,
} from './envelope.ts'
import { UnauthorizedError } from './errors.ts'
import { FrameDecoder } from './frame.ts'
import { sendEnvelope } from './stream-send.ts'

/** Decides whether `peer` may send requests on `protocol`; resolving `false` refuses the request. */
export type AuthorizeHook = (peer: PeerId, protocol: string) => boolean | Promise<boolean>

/** What {@link serveStream} needs from the transport. */
export interface ServeContext {
  /** The requesting peer. */
  peer: PeerId
  /** The stream's protocol. */
  protocol: string
  /** This node's id, for `UnsupportedProtocolError`. */
  self: PeerId
  /** The handler serving `protocol` now (looked up per request: `unhandle` takes effect at once). */
  handlerFor(protocol: string): ProtocolHandler | undefined
  authorize: AuthorizeHook
  /** Largest request and response, in bytes. */
  maxMessageBytes: number
  /** Requests of this stream handled at once; reading pauses (yamux backpressure) at the limit. */
  maxConcurrentRequests: number
  log: Logger
}

/** Serves requests arriving on `stream` until it closes. */
export function serveStream(stream: Stream, ctx: ServeContext): void {
  const decoder = new FrameDecoder(maxEnvelopeBytes(ctx.maxMessageBytes))
  let running = 0
  // Frames decoded while `maxConcurrentRequests` handlers run wait here (the stream is paused meanwhile);
  // one chunk may hold many frames, so pausing alone would not bound the handlers.
  const queued: Uint8Array[] = []
  let broken = false
  let remoteDone = false
  const closeWhenIdle = (): void => {
    if (remoteDone && running === 0 && queued.length === 0) stream.close().catch(() => {})
  }

  /**
   * Never rejects: an answer that cannot be sent is logged (the requester's stream is gone). While
   * many requests of the stream are being served, it may wait to leave with their answers.
   */
  const reply = (envelope: Envelope): Promise<void> =>
    sendEnvelope(stream, envelope, running).catch((error: unknown) => {
      ctx.log('answer to %s on %s not sent - %e', ctx.peer, ctx.protocol, error)
    })
  const refuse = (id: number, error: unknown): Promise<void> =>
    reply({ kind: 'error', id, ...toRemoteFailure(error) })

  const handle = async (frame: Uint8Array): Promise<void> => {
    let envelope: Envelope
    try {
      envelope = decodeEnvelope(frame)
      if (envelope.kind !== 'request') {
        throw new DecodeError(`a ${envelope.kind} arrived on an inbound stream`)
      }
    } catch (error) {
      ctx.log('malformed request from %s on %s - %e', ctx.peer, ctx.protocol, error)
      await refuse(peekRequestId(frame) ?? STREAM_ERROR_ID, error)
      return
    }
    const { id, payload } = envelope
    let response: Uint8Array
    try {
      response = await answer(payload)
      if (response.byteLength > ctx.maxMessageBytes) {
        throw new TooLargeError('response', response.byteLength, ctx.maxMessageBytes)
      }
    } catch (error) {
      if (!(error instanceof SolarOrbitError)) {
        ctx.log.error('handler of %s threw - %e', ctx.protocol, error)
      }
      await refuse(id, error)
      return
    }
    await reply({ kind: 'response', id, payload: response })
  }

  const answer = async (payload: Uint8Array): Promise<Uint8Array> => {
    if (!(await ctx.authorize(ctx.peer, ctx.protocol))) {
      throw new UnauthorizedError(ctx.peer, ctx.protocol)
    }
    const handler = ctx.handlerFor(ctx.protocol)
    if (handler === undefined) throw new UnsupportedProtocolError(ctx.self, ctx.protocol)
    return handler(payload, ctx.peer)
  }

  const run = (frame: Uint8Array): void => {
    if (running >= ctx.maxConcurrentRequests) {
      queued.push(frame)
      if (stream.readStatus === 'readable') stream.pause()
      return
    }
    running++
    handle(frame).finally(() => {
      running--
      const next = queued.shift()
      if (next !== undefined) run(next)
      else if (stream.readStatus === 'paused') stream.resume()
      closeWhenIdle()
    })
  }

  stream.addEventListener('message', (event) => {
    if (broken) return
    let frames: Uint8Array[]
    try {
      frames = decoder.push(event.data.subarray())
    } catch (error) {
      // The framing is lost: answer once, then drop the stream.
      broken = true
      ctx.log('unframeable data from %s on %s - %e', ctx.peer, ctx.protocol, error)
      const failure = toRemoteFailure(error)
      sendEnvelope(stream, { kind: 'error', id: STREAM_ERROR_ID, ...failure })
        .then(() => stream.close())
        .catch(() => {})
        .finally(() => stream.abort(error as Error))
      return
    }
    for (const frame of frames) run(frame)
  })
  // The requester is done sending: close our end once the last answer is out.
  stream.addEventListener('remoteCloseWrite', () => {
    remoteDone = true
    closeWhenIdle()
  })
}
