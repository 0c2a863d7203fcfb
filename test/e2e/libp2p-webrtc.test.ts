/**
 * Browser peers on the libp2p mesh: a Node peer in this process relays (circuit relay v2 over
 * WebSockets) for two Chromium pages in separate contexts. Both pages reach the Node peer over
 * WebSockets, reach each other over a direct WebRTC connection signalled through the relay, carry a
 * `Libp2pTransport` request on that direct connection, and hear the Node peer's gossip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { timerScheduler } from '../../src/runtime/system-ports.ts'
import { createLibp2pNode, Libp2pTransport } from '../../src/transport/libp2p/index.ts'
import { GOSSIP_TOPIC } from './fixtures/libp2p-names.ts'
import { type BuiltPage, buildPage } from './fixtures/page-build.ts'
import { type BrowserHarness, type PeerPage, startBrowserHarness } from './harness.ts'

describe('browser peers over WebSockets and WebRTC', () => {
  let built: BuiltPage
  let harness: BrowserHarness
  let relay: Libp2pTransport
  let relayAddr: string
  let a: PeerPage
  let b: PeerPage
  let ids: { a: string; b: string }
  let bWebrtcAddr: string

  beforeAll(async () => {
    const node = await createLibp2pNode({
      listen: ['/ip4/127.0.0.1/tcp/0/ws'],
      relayServer: true,
      gossipHeartbeatMs: 100,
    })
    relay = new Libp2pTransport({ node, scheduler: timerScheduler })
    await relay.start()
    relayAddr = relay.multiaddrs().find((addr) => addr.includes('/ws/'))!
    built = await buildPage('test/e2e/fixtures/libp2p-peer.html')
    harness = await startBrowserHarness()
    ;[a, b] = await Promise.all([harness.newPeerPage(built.path), harness.newPeerPage(built.path)])
    const [startedA, startedB] = await Promise.all(
      [a, b].map((p) => p.page.evaluate((addr) => window.libp2pPeer.start(addr), relayAddr)),
    )
    ids = { a: startedA!.id, b: startedB!.id }
    bWebrtcAddr = startedB!.webrtcAddr
  })

  afterAll(async () => {
    await Promise.allSettled([a, b].map((p) => p?.page.evaluate(() => window.libp2pPeer.stop())))
    await harness?.close()
    await relay?.stop()
    await built?.remove()
  })

  it('connects both pages to the Node peer over WebSockets, each with a relay reservation', () => {
    expect(relay.peers()).toEqual(expect.arrayContaining([ids.a, ids.b]))
    expect(bWebrtcAddr).toBe(`${relayAddr}/p2p-circuit/webrtc/p2p/${ids.b}`)
  })

  it('dials the other page over a direct, unlimited WebRTC connection', async () => {
    const dialled = await a.page.evaluate((addr) => window.libp2pPeer.dial(addr), bWebrtcAddr)
    expect(dialled.peer).toBe(ids.b)
    expect(dialled).toMatchObject({
      remoteAddr: bWebrtcAddr,
      multiplexer: '/webrtc',
      limited: false,
    })
  })

  it('carries a transport request from page A to page B on the direct connection', async () => {
    const report = await a.page.evaluate((to) => window.libp2pPeer.request(to, 'hello'), ids.b)
    expect(report.response).toBe('echo:hello')
    expect(report.connection).toEqual({
      remoteAddr: bWebrtcAddr,
      multiplexer: '/webrtc',
      limited: false,
    })
    expect(await b.page.evaluate(() => window.libp2pPeer.requesters())).toEqual([ids.a])
    const t = await a.page.evaluate(() => window.libp2pPeer.timeline())
    expect(Object.keys(t).sort()).toEqual([
      'connected',
      'dialled',
      'first-response',
      'loaded',
      'reserved',
      'start',
    ])
    console.info(
      `page A, ms after navigation start: loaded ${t.loaded?.toFixed(0)}, peer started ` +
        `${t.start?.toFixed(0)}, relay connected ${t.connected?.toFixed(0)}, relay reservation ${t.reserved?.toFixed(0)}, WebRTC dialled ` +
        `${t.dialled?.toFixed(0)}, first response ${t['first-response']?.toFixed(0)}`,
    )
  })

  it('carries a request the other way, from page B to page A, on a direct connection', async () => {
    const report = await b.page.evaluate((to) => window.libp2pPeer.request(to, 'back'), ids.a)
    expect(report.response).toBe('echo:back')
    expect(report.connection).toMatchObject({ multiplexer: '/webrtc', limited: false })
  })

  it('delivers a gossip broadcast from the Node peer to both pages', async () => {
    const heard = Promise.all(
      [a, b].map((p) => p.page.evaluate((from) => window.libp2pPeer.gossipFrom(from), relay.self)),
    )
    // Until the pages' subscriptions have reached the Node peer, a broadcast goes nowhere: repeat it.
    const data = new TextEncoder().encode('from node')
    const timer = setInterval(() => relay.broadcast(GOSSIP_TOPIC, data), 100)
    try {
      expect(await heard).toEqual(['from node', 'from node'])
    } finally {
      clearInterval(timer)
    }
  })

  it("delivers page A's gossip broadcast to page B and the Node peer", async () => {
    const heardByB = b.page.evaluate((from) => window.libp2pPeer.gossipFrom(from), ids.a)
    const heardByNode = new Promise<string>((resolve) => {
      const unsubscribe = relay.subscribe(GOSSIP_TOPIC, (data, from) => {
        if (from !== ids.a) return
        unsubscribe()
        resolve(new TextDecoder().decode(data))
      })
    })
    const timer = setInterval(() => {
      a.page.evaluate(() => window.libp2pPeer.broadcast('from page A')).catch(() => {})
    }, 100)
    try {
      expect(await Promise.all([heardByB, heardByNode])).toEqual(['from page A', 'from page A'])
    } finally {
      clearInterval(timer)
    }
  })

  it('raised no page errors', () => {
    expect(a.errors).toEqual([])
    expect(b.errors).toEqual([])
  })
})
