/**
 * Libp2pTransport with two connections to one peer, one of them dead on the far side: what two
 * crossing WebRTC dials between browsers leave behind. Here the dead one runs through a TCP proxy on
 * loopback that stops forwarding; requests must go over the live one, and the dead one is aborted.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { timerScheduler } from '../../src/runtime/system-ports.ts'
import { createLibp2pNode, Libp2pTransport } from '../../src/transport/libp2p/index.ts'

const ECHO = '/solar-orbit/dup/echo/1.0.0'
const STREAM_OPEN_TIMEOUT_MS = 2000
const text = (data: Uint8Array): string => new TextDecoder().decode(data)
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value)

/** A loopback TCP proxy to `port` that, once frozen, drops every byte both ways and keeps the sockets. */
async function startProxy(port: number): Promise<{ port: number; freeze(): void; close(): void }> {
  let frozen = false
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1')
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from)
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk)
      })
      from.on('error', () => {})
      from.on('close', () => to.destroy())
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    freeze: () => {
      frozen = true
    },
    close: () => {
      for (const socket of sockets) socket.destroy()
      server.close()
    },
  }
}

describe('Libp2pTransport with a dead duplicate connection', () => {
  const cleanups: (() => unknown)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  /** A requester and an echo server, and a frozen proxied connection from the first to the second. */
  async function setUp() {
    const transports = await Promise.all(
      [0, 1].map(async () => {
        const node = await createLibp2pNode({ gossipHeartbeatMs: 100 })
        const transport = new Libp2pTransport(
          { node, scheduler: timerScheduler },
          { streamOpenTimeoutMs: STREAM_OPEN_TIMEOUT_MS },
        )
        await transport.start()
        cleanups.push(() => transport.stop())
        return transport
      }),
    )
    const [requester, server] = transports as [Libp2pTransport, Libp2pTransport]
    server.handle(ECHO, async (request) => bytes(`echo:${text(request)}`))
    const serverPort = Number(/\/tcp\/(\d+)/.exec(server.multiaddrs()[0]!)![1])
    const proxy = await startProxy(serverPort)
    cleanups.push(() => proxy.close())
    const serverId = peerIdFromString(server.self)
    const viaProxy = multiaddr(`/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${server.self}`)
    const dead = await requester.node.dial(viaProxy)
    proxy.freeze()
    const openConnections = () =>
      requester.node.getConnections(serverId).filter((c) => c.status === 'open')
    const dialDirect = () =>
      requester.node.dial(multiaddr(server.multiaddrs()[0]!), { force: true })
    return { requester, server, dead, openConnections, dialDirect }
  }

  it('sends over the live connection when the dead one is listed first, and aborts the dead one', async () => {
    const { requester, server, dead, openConnections, dialDirect } = await setUp()
    const live = await dialDirect()
    expect(openConnections()).toEqual([dead, live])

    const answer = await requester.request(server.self, ECHO, bytes('hi'), { timeoutMs: 5000 })
    expect(text(answer)).toBe('echo:hi')
    // The answer did not wait for the dead connection's deadline, at which it is aborted.
    expect(dead.status).toBe('open')

    await expect.poll(() => dead.status, { timeout: 3 * STREAM_OPEN_TIMEOUT_MS }).not.toBe('open')
    expect(openConnections()).toEqual([live])
    expect(text(await requester.request(server.self, ECHO, bytes('again')))).toBe('echo:again')
  })

  it('lets a connection that opens while the stream waits on the dead one carry the request', async () => {
    const { requester, server, dead, openConnections, dialDirect } = await setUp()
    const pending = requester.request(server.self, ECHO, bytes('late'), { timeoutMs: 5000 })
    await new Promise((resolve) => setTimeout(resolve, 200))
    const live = await dialDirect()

    expect(text(await pending)).toBe('echo:late')
    await expect.poll(() => dead.status, { timeout: 3 * STREAM_OPEN_TIMEOUT_MS }).not.toBe('open')
    expect(openConnections()).toEqual([live])
  })

  it('fails with UnreachableError after the stream-open deadline when only the dead one exists', async () => {
    const { requester, server, dead } = await setUp()
    await expect(
      requester.request(server.self, ECHO, bytes('lost'), { timeoutMs: 5000 }),
    ).rejects.toMatchObject({ code: 'ERR_UNREACHABLE' })
    // With nothing to compare it with, the connection is left to libp2p's own liveness checks.
    expect(dead.status).toBe('open')
  })
})
