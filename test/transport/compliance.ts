/**
 * The Transport compliance suite: every implementation (SimNetwork's transports, the libp2p adapter)
 * runs it through {@link runTransportTests}. It checks the contract of `src/transport/transport.ts`:
 * request/response and its failures, handlers, broadcast, peer events, cut links and stop.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ClosedError, InvalidArgumentError, type SolarOrbitError } from '../../src/core/index.ts'
import type { PeerId, Transport } from '../../src/transport/index.ts'
import {
  RemoteError,
  TimeoutError,
  UnreachableError,
  UnsupportedProtocolError,
} from '../../src/transport/index.ts'
import { rejection } from '../support/rejection.ts'

/** What an implementation hands the suite for one test. */
export interface TransportHarness {
  /** Started transports, every one connected to every other. */
  readonly transports: readonly Transport[]
  /**
   * Resolves or rejects as `promise` does, after letting the implementation make progress: a simulated
   * implementation runs its scheduler until the promise settles; a real one just awaits it.
   */
  run<T>(promise: Promise<T>): Promise<T>
  /** Cuts the link between `transports[a]` and `transports[b]` both ways: their connection closes. */
  cut(a: number, b: number): Promise<void>
  /** Restores a link cut by {@link cut}; the two reconnect. */
  restore(a: number, b: number): Promise<void>
  /**
   * Resolves once subscription changes made so far are known to the peers and broadcasts already sent
   * have arrived (a simulation runs a while; libp2p waits out a gossipsub heartbeat).
   */
  settleGossip(): Promise<void>
  /** Stops everything. */
  teardown(): Promise<void>
}

/** Creates a harness with `count` (>= 3) connected transports. */
export type TransportHarnessFactory = (count: number) => Promise<TransportHarness>

const echo = '/solar-orbit/test/echo/1.0.0'
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (data: Uint8Array): string => new TextDecoder().decode(data)

/** A promise of the next `type` event on `transport`, with its peer. */
function nextEvent(
  transport: Transport,
  type: 'peer:connect' | 'peer:disconnect',
  peer: PeerId,
): Promise<void> {
  return new Promise((resolve) => {
    const listener = (event: CustomEvent<PeerId>): void => {
      if (event.detail !== peer) return
      transport.removeEventListener(type, listener)
      resolve()
    }
    transport.addEventListener(type, listener)
  })
}

/** Runs the compliance suite against the implementation `name`. */
export function runTransportTests(name: string, setup: TransportHarnessFactory): void {
  describe(`Transport compliance: ${name}`, () => {
    let h: TransportHarness
    let a: Transport
    let b: Transport
    let c: Transport

    beforeEach(async () => {
      h = await setup(3)
      ;[a, b, c] = h.transports as [Transport, Transport, Transport]
      for (const t of h.transports) {
        t.handle(
          echo,
          (request, from) => new Uint8Array([...bytes(`${t.self}<-${from}:`), ...request]),
        )
      }
    })

    afterEach(async () => {
      await h.teardown()
    })

    it('starts connected to every other transport', () => {
      for (const t of h.transports) {
        expect(t.isStarted()).toBe(true)
        const others = h.transports.filter((o) => o !== t).map((o) => o.self)
        expect(t.peers().sort()).toEqual(others.sort())
      }
    })

    it('delivers a request to the peer handler and returns its response, naming the sender', async () => {
      const response = await h.run(a.request(b.self, echo, bytes('ping')))
      expect(text(response)).toBe(`${b.self}<-${a.self}:ping`)
      expect(text(await h.run(c.request(a.self, echo, bytes('x'))))).toBe(`${a.self}<-${c.self}:x`)
    })

    it('serves a request to itself with its own handler', async () => {
      expect(text(await h.run(a.request(a.self, echo, bytes('me'))))).toBe(
        `${a.self}<-${a.self}:me`,
      )
    })

    it('carries empty and large payloads intact', async () => {
      b.handle('/solar-orbit/test/mirror/1.0.0', (request) => request)
      const big = new Uint8Array(256 * 1024).map((_, i) => (i * 31) & 0xff)
      expect(
        await h.run(a.request(b.self, '/solar-orbit/test/mirror/1.0.0', new Uint8Array())),
      ).toEqual(new Uint8Array())
      expect(await h.run(a.request(b.self, '/solar-orbit/test/mirror/1.0.0', big))).toEqual(big)
    })

    it('matches concurrent responses to their requests', async () => {
      b.handle('/solar-orbit/test/double/1.0.0', async (request) => request.map((x) => x * 2))
      const requests = Array.from({ length: 50 }, (_, i) =>
        a.request(b.self, '/solar-orbit/test/double/1.0.0', new Uint8Array([i, i + 1])),
      )
      const responses = await h.run(Promise.all(requests))
      responses.forEach((response, i) => {
        expect([...response]).toEqual([i * 2, (i + 1) * 2])
      })
    })

    it('rejects with RemoteError carrying the code a handler threw', async () => {
      b.handle('/solar-orbit/test/fail/1.0.0', () => {
        throw new InvalidArgumentError('bad key')
      })
      const error = await h.run(
        rejection(a.request(b.self, '/solar-orbit/test/fail/1.0.0', bytes(''))),
      )
      expect(error).toBeInstanceOf(RemoteError)
      expect((error as RemoteError).code).toBe('ERR_REMOTE')
      expect((error as RemoteError).remoteCode).toBe(InvalidArgumentError.code)
      expect((error as RemoteError).peer).toBe(b.self)
      expect((error as RemoteError).message).toContain('bad key')
    })

    it('hides the detail of a non-SolarOrbitError thrown by a handler', async () => {
      b.handle('/solar-orbit/test/bug/1.0.0', async () => {
        throw new TypeError('secret internals')
      })
      const error = await h.run(
        rejection(a.request(b.self, '/solar-orbit/test/bug/1.0.0', bytes(''))),
      )
      expect(error).toBeInstanceOf(RemoteError)
      expect((error as RemoteError).remoteCode).toBe(RemoteError.internalCode)
      expect((error as RemoteError).message).not.toContain('secret')
    })

    it('rejects with UnsupportedProtocolError for a protocol without a handler, also after unhandle', async () => {
      const missing = await h.run(
        rejection(a.request(b.self, '/solar-orbit/test/none/1.0.0', bytes(''))),
      )
      expect(missing).toBeInstanceOf(UnsupportedProtocolError)
      expect((missing as SolarOrbitError).code).toBe('ERR_UNSUPPORTED_PROTOCOL')
      b.unhandle(echo)
      expect(await h.run(rejection(a.request(b.self, echo, bytes(''))))).toBeInstanceOf(
        UnsupportedProtocolError,
      )
      b.unhandle(echo)
    })

    it('refuses a second handler for one protocol', () => {
      expect(() => a.handle(echo, (r) => r)).toThrow(InvalidArgumentError)
    })

    it('times out when the handler never answers', async () => {
      b.handle('/solar-orbit/test/hang/1.0.0', () => new Promise<Uint8Array>(() => {}))
      const error = await h.run(
        rejection(a.request(b.self, '/solar-orbit/test/hang/1.0.0', bytes(''), { timeoutMs: 200 })),
      )
      expect(error).toBeInstanceOf(TimeoutError)
      expect((error as TimeoutError).code).toBe('ERR_TIMEOUT')
      expect((error as TimeoutError).timeoutMs).toBe(200)
    })

    it('rejects with the signal reason when aborted, before or during the request', async () => {
      const early = new AbortController()
      early.abort(new Error('early'))
      expect(
        await h.run(rejection(a.request(b.self, echo, bytes(''), { signal: early.signal }))),
      ).toBe(early.signal.reason)
      let started!: () => void
      const handlerStarted = new Promise<void>((resolve) => {
        started = resolve
      })
      b.handle('/solar-orbit/test/slow/1.0.0', () => {
        started()
        return new Promise<Uint8Array>(() => {})
      })
      const late = new AbortController()
      const pending = rejection(
        a.request(b.self, '/solar-orbit/test/slow/1.0.0', bytes(''), { signal: late.signal }),
      )
      await h.run(handlerStarted)
      late.abort()
      const error = await h.run(pending)
      expect(error).toBe(late.signal.reason)
      expect((error as Error).name).toBe('AbortError')
    })

    it('broadcasts to subscribers only, not to itself, until they unsubscribe', async () => {
      const topic = 'solar-orbit/test/gossip'
      const got: string[] = []
      const offB = b.subscribe(topic, (data, from) => got.push(`b:${from}:${text(data)}`))
      c.subscribe(topic, (data, from) => got.push(`c:${from}:${text(data)}`))
      a.subscribe(topic, (data) => got.push(`a:${text(data)}`))
      b.subscribe('solar-orbit/test/other', (data) => got.push(`other:${text(data)}`))
      await h.settleGossip()
      a.broadcast(topic, bytes('hello'))
      await h.settleGossip()
      expect(got.sort()).toEqual([`b:${a.self}:hello`, `c:${a.self}:hello`])
      offB()
      offB()
      got.length = 0
      await h.settleGossip()
      a.broadcast(topic, bytes('again'))
      await h.settleGossip()
      expect(got).toEqual([`c:${a.self}:again`])
    })

    it('disconnects a cut link: events on both ends, UnreachableError, and reconnects on restore', async () => {
      const aSawB = nextEvent(a, 'peer:disconnect', b.self)
      const bSawA = nextEvent(b, 'peer:disconnect', a.self)
      await h.cut(0, 1)
      await h.run(Promise.all([aSawB, bSawA]))
      expect(a.peers()).not.toContain(b.self)
      expect(a.peers()).toContain(c.self)
      const error = await h.run(rejection(a.request(b.self, echo, bytes(''))))
      expect(error).toBeInstanceOf(UnreachableError)
      expect((error as UnreachableError).code).toBe('ERR_UNREACHABLE')
      expect(text(await h.run(a.request(c.self, echo, bytes('still'))))).toBe(
        `${c.self}<-${a.self}:still`,
      )

      const back = nextEvent(a, 'peer:connect', b.self)
      await h.restore(0, 1)
      await h.run(back)
      expect(text(await h.run(a.request(b.self, echo, bytes('again'))))).toBe(
        `${b.self}<-${a.self}:again`,
      )
    })

    it('fails a request in flight when its connection closes', async () => {
      let started!: () => void
      const handlerStarted = new Promise<void>((resolve) => {
        started = resolve
      })
      b.handle('/solar-orbit/test/slow/1.0.0', () => {
        started()
        return new Promise<Uint8Array>(() => {})
      })
      const pending = rejection(
        a.request(b.self, '/solar-orbit/test/slow/1.0.0', bytes(''), { timeoutMs: 60_000 }),
      )
      await h.run(handlerStarted)
      await h.cut(0, 1)
      expect(await h.run(pending)).toBeInstanceOf(UnreachableError)
    })

    it('rejects with ClosedError after stop, and its peers see it leave', async () => {
      let started!: () => void
      const handlerStarted = new Promise<void>((resolve) => {
        started = resolve
      })
      b.handle('/solar-orbit/test/slow/1.0.0', () => {
        started()
        return new Promise<Uint8Array>(() => {})
      })
      const pending = rejection(
        a.request(b.self, '/solar-orbit/test/slow/1.0.0', bytes(''), { timeoutMs: 60_000 }),
      )
      await h.run(handlerStarted)
      const left = nextEvent(b, 'peer:disconnect', a.self)
      await h.run(a.stop())
      expect(a.isStarted()).toBe(false)
      expect(await h.run(pending)).toBeInstanceOf(ClosedError)
      await h.run(left)
      expect(await h.run(rejection(a.request(b.self, echo, bytes(''))))).toBeInstanceOf(ClosedError)
      expect(() => a.broadcast('solar-orbit/test/gossip', bytes(''))).toThrow(ClosedError)
      expect(a.peers()).toEqual([])
      expect(b.peers()).not.toContain(a.self)
      await h.run(a.stop())
    })
  })
}
