/** `leanFraming`: noise over an in-memory connection pair, with and without the wrapper. */
import { noise } from '@chainsafe/libp2p-noise'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { ConnectionEncrypter, MessageStream, MultiaddrConnection } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { describe, expect, it, vi } from 'vitest'
import { leanFraming } from '../../src/transport/libp2p/noise-framing.ts'

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
 * dialler's encrypter hands its raw connection on each `send`; with `split`, that reaches the listener
 * one byte at a time.
 */
async function securedPair(factory: Factory, split = false) {
  const [outbound, inbound] = multiaddrConnectionPair()
  const sends: unknown[] = []
  const send = outbound.send.bind(outbound)
  vi.spyOn(outbound as MultiaddrConnection, 'send').mockImplementation((data) => {
    sends.push(data)
    if (!split) return send(data)
    // Each byte on its own: the listener reads every length prefix in two pieces.
    const bytes = data instanceof Uint8Array ? data : data.subarray()
    let writable = true
    for (let i = 0; i < bytes.byteLength; i++) writable = send(bytes.subarray(i, i + 1))
    return writable
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

describe('leanFraming', () => {
  it('hands the connection each noise message as one buffer, which the peer decrypts', async () => {
    const { sends, a, b } = await securedPair(leanFraming(noise()))
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
    const wrapped = await encrypter(leanFraming(noise()))
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

  it('reads every message without the RangeError noise throws at the end of each read', async () => {
    const { a, b } = await securedPair(leanFraming(noise()))
    const thrown = await rangeErrorsDuring(() => exchange(a, b, 20))
    expect(thrown).toBe(0)
  })

  it('is needed: unwrapped noise makes a RangeError at the end of every read', async () => {
    // If this fails, noise reads lengths without exceptions now, and `quietLengths` can go.
    const { a, b } = await securedPair(noise())
    const thrown = await rangeErrorsDuring(() => exchange(a, b, 20))
    expect(thrown).toBeGreaterThanOrEqual(20)
  })

  it('waits for the rest of a length prefix that arrives split across reads', async () => {
    const { a, b } = await securedPair(leanFraming(noise()), true)
    const payload = Uint8Array.from({ length: 300 }, (_, i) => i % 251)
    const arrived = received(b, 2 * payload.byteLength)
    a.send(payload)
    a.send(payload)
    const bytes = await arrived
    expect(bytes.subarray(0, payload.byteLength)).toEqual(payload)
    expect(bytes.subarray(payload.byteLength)).toEqual(payload)
  })
})

/** Sends `count` messages from `a` to `b`, each once the one before arrived. */
async function exchange(a: MessageStream, b: MessageStream, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const arrived = received(b, 100)
    a.send(new Uint8Array(100).fill(i))
    await arrived
  }
}

/** How many RangeErrors were made while `run` ran (noise makes its own by calling `RangeError()`). */
async function rangeErrorsDuring(run: () => Promise<void>): Promise<number> {
  const original = globalThis.RangeError
  let made = 0
  globalThis.RangeError = new Proxy(original, {
    apply(target, self, args) {
      made++
      return Reflect.apply(target, self, args)
    },
    construct(target, args, newTarget) {
      made++
      return Reflect.construct(target, args, newTarget)
    },
  })
  try {
    await run()
  } finally {
    globalThis.RangeError = original
  }
  return made
}
