/**
 * Hands a connection encrypter (noise) a view of the raw connection that writes each of its messages
 * in one piece. Noise sends every message as two buffers, a 2-byte length and the ciphertext, and
 * libp2p's TCP and WebSocket connections write each buffer on its own: two `write` syscalls and two
 * packets per message over TCP (Nagle is off), two WebSocket messages in a browser. A receiver then
 * often wakes for the length alone and again for the rest; an echo of 1 KB over libp2p showed it in
 * `strace`, and a quorum request pays it for every request, reply and yamux window update. Joining
 * the two buffers costs a copy of the message and leaves the bytes on the wire unchanged, so peers
 * without this wrapper interoperate. (js-libp2p-noise once joined them itself, in its PR #387; the
 * current release, 17.0.0, does not.)
 */
import {
  type ConnectionEncrypter,
  type MessageStream,
  serviceCapabilities,
} from '@libp2p/interface'

/** What a connection's `send` takes: one buffer, or a list of them. */
type Sendable = Parameters<MessageStream['send']>[0]

/** Wraps a connection encrypter's factory (`noise()`) so that its messages leave in one write each. */
export function wholeMessages<Components, Extension>(
  factory: (components: Components) => ConnectionEncrypter<Extension>,
): (components: Components) => ConnectionEncrypter<Extension> {
  return (components) => {
    const inner = factory(components)
    return {
      protocol: inner.protocol,
      [serviceCapabilities]: capabilitiesOf(inner),
      secureInbound: (connection, options) =>
        inner.secureInbound(joiningSends(connection), options),
      secureOutbound: (connection, options) =>
        inner.secureOutbound(joiningSends(connection), options),
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

function capabilitiesOf(encrypter: object): string[] {
  const declared = (encrypter as { [serviceCapabilities]?: unknown })[serviceCapabilities]
  return Array.isArray(declared) ? declared : []
}
