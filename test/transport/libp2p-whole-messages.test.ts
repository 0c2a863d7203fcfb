/** `wholeMessages`: noise over an in-memory connection pair, with and without the wrapper. */
import { noise } from '@chainsafe/libp2p-noise'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { ConnectionEncrypter, MessageStream, MultiaddrConnection } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { describe, expect, it, vi } from 'vitest'
import { wholeMessages } from '../../src/transport/libp2p/whole-messages.ts'

type Factory = ReturnType<typeof noise>

async function encrypter(factory: Factory): Promise<ConnectionEncrypter> {
  const privateKey = await generateKeyPair('Ed25519')
  return factory({
    privateKey,
    peerId: peerIdFromPrivateKey(privateKey),
    logger: defaultLogger(),
    upgrader: { getStreamMuxers: () => new Map() } as never,
  })
}

/**
 * Secures both ends of a fresh in-memory connection with `factory`'s encrypters and records what the
 * dialler's encrypter hands its raw connection on each `send`.
 */
async function securedPair(factory: Factory) {
  const [outbound, inbound] = multiaddrConnectionPair()
  const sends: unknown[] = []
  const send = outbound.send.bind(outbound)
  vi.spyOn(outbound as MultiaddrConnection, 'send').mockImplementation((data) => {
    sends.push(data)
    return send(data)
  })
  const [dialler, listener] = await Promise.all([encrypter(factory), encrypter(factory)])
  const [a, b] = await Promise.all([
    dialler.secureOutbound(outbound),
    listener.secureInbound(inbound),
  ])
  return { sends, a: a.connection, b: b.connection }
}

function received(stream: MessageStream, bytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let length = 0
  return new Promise((resolve) => {
    stream.addEventListener('message', (event) => {
      const chunk = event.data.subarray()
      chunks.push(chunk)
      length += chunk.byteLength
      if (length < bytes) return
      const all = new Uint8Array(length)
      let offset = 0
      for (const c of chunks) {
        all.set(c, offset)
        offset += c.byteLength
      }
      resolve(all)
    })
  })
}

describe('wholeMessages', () => {
  it('hands the connection each noise message as one buffer, which the peer decrypts', async () => {
    const { sends, a, b } = await securedPair(wholeMessages(noise()))
    sends.length = 0
    // Larger than one noise message (65535 bytes): noise encrypts it as two, sent together.
    const payload = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251)
    const arrived = received(b, payload.byteLength + 3)
    a.send(payload)
    a.send(Uint8Array.of(1, 2, 3))
    const bytes = await arrived
    expect(bytes.subarray(0, payload.byteLength)).toEqual(payload)
    expect(bytes.subarray(payload.byteLength)).toEqual(Uint8Array.of(1, 2, 3))
    expect(sends).toHaveLength(2)
    expect(sends.every((data) => data instanceof Uint8Array)).toBe(true)
  })

  it('keeps the protocol and capabilities of the encrypter it wraps', async () => {
    const wrapped = await encrypter(wholeMessages(noise()))
    const plain = await encrypter(noise())
    expect(wrapped.protocol).toBe(plain.protocol)
    const symbols = (encrypter: object) => encrypter as Record<symbol, unknown>
    const capabilities = Object.getOwnPropertySymbols(plain).map((s) => symbols(plain)[s])
    expect(capabilities.some((c) => Array.isArray(c) && c.length > 0)).toBe(true)
    for (const symbol of Object.getOwnPropertySymbols(wrapped)) {
      expect(symbols(wrapped)[symbol]).toEqual(symbols(plain)[symbol])
    }
  })

  it('is needed: unwrapped noise sends its length and ciphertext as two buffers', async () => {
    // If this fails, noise joins them itself now and the wrapper can go.
    const { sends, a, b } = await securedPair(noise())
    sends.length = 0
    const arrived = received(b, 3)
    a.send(Uint8Array.of(1, 2, 3))
    await arrived
    expect(sends).toHaveLength(1)
    expect(sends[0]).not.toBeInstanceOf(Uint8Array)
    expect((sends[0] as { bufs: unknown[] }).bufs).toHaveLength(2)
  })
})
