/**
 * Two fixes to how noise frames its messages on the raw connection, neither visible on the wire, so
 * peers without them interoperate.
 *
 * Writes: noise sends every message as two buffers, a 2-byte length and the ciphertext, and libp2p's
 * TCP and WebSocket connections write each buffer on its own: two `write` syscalls and two packets
 * per message over TCP (Nagle is off), two WebSocket messages in a browser. A receiver then often
 * wakes for the length alone and again for the rest; an echo of 1 KB over libp2p showed it in
 * `strace`. Noise is handed a view of the connection whose `send` joins them, at the cost of a copy.
 * (js-libp2p-noise once joined them itself, in its PR #387; the current release, 17.0.0, does not.)
 *
 * Reads: noise's length-prefix decoder asks for the next length after the last whole message of
 * every read, and its length function throws a `RangeError` (a stack trace) to say there is none
 * yet, which the decoder catches. Its secured connection gets a length function that answers "an
 * empty message, not all here yet" instead, which the decoder treats as it treats any message not
 * all here: it waits for more bytes. Measured on one warm three-member cluster, switched on and off
 * at run time: 13-18% off quorum get and put latency.
 */
import {
  type ConnectionEncrypter,
  type MessageStream,
  type SecuredConnection,
  serviceCapabilities,
} from '@libp2p/interface'

/** What a connection's `send` takes: one buffer, or a list of them. */
type Sendable = Parameters<MessageStream['send']>[0]

/** The length prefix of a noise message, in bytes. */
const LENGTH_BYTES = 2

/** Wraps a connection encrypter's factory (`noise()`) with both fixes of the module comment. */
export function leanFraming<Components, Extension>(
  factory: (components: Components) => ConnectionEncrypter<Extension>,
): (components: Components) => ConnectionEncrypter<Extension> {
  return (components) => {
    const inner = factory(components)
    return {
      protocol: inner.protocol,
      [serviceCapabilities]: capabilitiesOf(inner),
      secureInbound: async (connection, options) =>
        quietLengths(await inner.secureInbound(joiningSends(connection), options)),
      secureOutbound: async (connection, options) =>
        quietLengths(await inner.secureOutbound(joiningSends(connection), options)),
    }
  }
}

/**
 * `connection` with a `send` that joins a list of buffers into one before sending. Everything else is
 * the connection's own: a proxy rather than a class that restates the `MessageStream` interface. Its
 * methods and accessors run with the connection itself as `this` (they use private fields); its own
 * function-valued properties (the logger, with its methods) pass through untouched.
 */
function joiningSends(connection: MessageStream): MessageStream {
  const send = (data: Sendable): boolean =>
    connection.send(data instanceof Uint8Array ? data : data.subarray())
  return new Proxy(connection, {
    get(target, property) {
      if (property === 'send') return send
      const value: unknown = Reflect.get(target, property)
      const isMethod = typeof value === 'function' && !Object.hasOwn(target, property)
      return isMethod ? value.bind(target) : value
    },
    set: (target, property, value) => Reflect.set(target, property, value),
  })
}

/** The part of noise's secured connection that reads length prefixes (not declared by the package). */
interface LengthPrefixReader {
  readonly decoder?: { lengthDecoder?: (data: { readonly byteLength: number }) => number }
}

/**
 * Gives the secured connection's decoder a length function that does not throw when fewer than two
 * bytes are buffered: it answers 0, and a message of 0 bytes after a 2-byte length is more than is
 * buffered, so the decoder waits for more, as it did on the `RangeError`. A connection that does not
 * read as noise 17 does is left as it is: correct, only slower (a test notices).
 */
function quietLengths<Extension>(
  secured: SecuredConnection<Extension>,
): SecuredConnection<Extension> {
  const decoder = (secured.connection as LengthPrefixReader).decoder
  const lengthOf = decoder?.lengthDecoder
  if (decoder === undefined || lengthOf === undefined) return secured
  decoder.lengthDecoder = (data) => (data.byteLength < LENGTH_BYTES ? 0 : lengthOf(data))
  return secured
}

function capabilitiesOf(encrypter: object): string[] {
  const declared = (encrypter as { [serviceCapabilities]?: unknown })[serviceCapabilities]
  return Array.isArray(declared) ? declared : []
}
