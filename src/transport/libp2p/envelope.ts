/**
 * The envelope every frame of a Solar Orbit request stream carries, so that one long-lived stream per
 * peer and protocol serves many concurrent requests: a kind, a request id that pairs a response with
 * its request, and the payload (or, for a failure, a stable code and a message).
 *
 * Layout (big-endian):
 * ```
 * kind u8 (1 request, 2 response, 3 error) | id u32 | request/response: payload bytes
 *                                                    | error: codeLength u8, code ASCII, message UTF-8
 * ```
 * Id 0 is never a request's: an error under id 0 is about the stream itself (a frame that could not be
 * read), and the requester drops the stream. Decoding validates everything and throws
 * {@link DecodeError}; it never returns a partial envelope.
 */
import { DecodeError } from '../../core/index.ts'
import { RemoteError } from '../index.ts'

/** Bytes before the payload: kind and id. */
const HEADER_BYTES = 5
/** Longest error code accepted. */
const MAX_CODE_BYTES = 64
/** Longest error message sent; longer ones are cut. */
const MAX_MESSAGE_BYTES = 1024
/** Codes look like `ERR_NOT_OWNER`. */
const CODE_PATTERN = /^[A-Z][A-Z0-9_]*$/

/** The id of errors about the stream rather than one request. */
export const STREAM_ERROR_ID = 0

const KIND_BYTES = { request: 1, response: 2, error: 3 } as const

/** A request for the peer's handler of the stream's protocol. */
export interface RequestEnvelope {
  readonly kind: 'request'
  /** Chosen by the requester, unique among its outstanding requests on the stream. */
  readonly id: number
  readonly payload: Uint8Array
}

/** The handler's answer to request `id`. */
export interface ResponseEnvelope {
  readonly kind: 'response'
  readonly id: number
  readonly payload: Uint8Array
}

/** Request `id` failed on the responder; `code` is stable, `message` is for people. */
export interface ErrorEnvelope {
  readonly kind: 'error'
  readonly id: number
  readonly code: string
  readonly message: string
}

/** One frame's content. */
export type Envelope = RequestEnvelope | ResponseEnvelope | ErrorEnvelope

/**
 * The largest frame body to accept when payloads may be `maxPayloadBytes` long: the payload plus the
 * header, and never less than the largest error envelope.
 */
export function maxEnvelopeBytes(maxPayloadBytes: number): number {
  return Math.max(maxPayloadBytes, 1 + MAX_CODE_BYTES + MAX_MESSAGE_BYTES) + HEADER_BYTES
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * The envelope as buffers to frame together (the payload is not copied here). An error code that
 * does not look like `ERR_SOMETHING` is sent as `ERR_INTERNAL`; a message is cut to 1 KiB.
 */
export function encodeEnvelope(envelope: Envelope): Uint8Array[] {
  const header = new Uint8Array(HEADER_BYTES)
  header[0] = KIND_BYTES[envelope.kind]
  new DataView(header.buffer).setUint32(1, envelope.id)
  if (envelope.kind !== 'error') return [header, envelope.payload]
  const code = encoder.encode(isValidCode(envelope.code) ? envelope.code : RemoteError.internalCode)
  const message = encoder.encode(truncate(envelope.message))
  return [header, Uint8Array.of(code.byteLength), code, message]
}

/** Parses and validates one frame body. Throws {@link DecodeError} on anything malformed. */
export function decodeEnvelope(frame: Uint8Array): Envelope {
  if (frame.byteLength < HEADER_BYTES) {
    throw new DecodeError(`envelope is ${frame.byteLength} bytes, shorter than its header`)
  }
  const id = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(1)
  const body = frame.subarray(HEADER_BYTES)
  switch (frame[0]) {
    case KIND_BYTES.request:
      return { kind: 'request', id, payload: body }
    case KIND_BYTES.response:
      return { kind: 'response', id, payload: body }
    case KIND_BYTES.error:
      return decodeError(id, body)
    default:
      throw new DecodeError(`unknown envelope kind ${frame[0]}`)
  }
}

/** The request id of a frame too malformed to decode, if its header is intact enough to tell. */
export function peekRequestId(frame: Uint8Array): number | undefined {
  if (frame.byteLength < HEADER_BYTES) return undefined
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(1)
}

function decodeError(id: number, body: Uint8Array): ErrorEnvelope {
  const codeLength = body[0]
  if (codeLength === undefined || codeLength === 0 || codeLength > MAX_CODE_BYTES) {
    throw new DecodeError('error envelope has an invalid code length')
  }
  if (body.byteLength < 1 + codeLength) throw new DecodeError('error envelope is truncated')
  if (body.byteLength > 1 + codeLength + MAX_MESSAGE_BYTES) {
    throw new DecodeError('error envelope message is too long')
  }
  let code: string
  let message: string
  try {
    code = decoder.decode(body.subarray(1, 1 + codeLength))
    message = decoder.decode(body.subarray(1 + codeLength))
  } catch (cause) {
    throw new DecodeError('error envelope is not UTF-8', { cause })
  }
  if (!isValidCode(code)) throw new DecodeError(`invalid error code ${JSON.stringify(code)}`)
  return { kind: 'error', id, code, message }
}

function isValidCode(code: string): boolean {
  return code.length <= MAX_CODE_BYTES && CODE_PATTERN.test(code)
}

/** Cuts `message` so its UTF-8 encoding fits {@link MAX_MESSAGE_BYTES} (on a code point boundary). */
function truncate(message: string): string {
  if (message.length * 3 <= MAX_MESSAGE_BYTES) return message
  let out = ''
  let bytes = 0
  for (const char of message) {
    const size = encoder.encode(char).byteLength
    if (bytes + size > MAX_MESSAGE_BYTES) break
    out += char
    bytes += size
  }
  return out
}
