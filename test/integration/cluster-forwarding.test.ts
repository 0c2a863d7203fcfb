/**
 * One-hop forwarding (`RoutedTransport`, the node's answer to members without a direct connection,
 * such as a browser reached through the Node relay it holds a reservation at): three libp2p transports
 * in this process, a–b and b–c connected, a and c refusing each other in their gates. a reaches c
 * through b; non-members, second hops and foreign protocols are refused with typed codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SolarOrbitError } from '../../src/core/index.ts'
import { announce, type ClusterState, emptyState } from '../../src/membership/index.ts'
import { forwardProtocol, RoutedTransport } from '../../src/node/index.ts'
import { timerScheduler } from '../../src/runtime/system-ports.ts'
import {
  RemoteError,
  UnreachableError,
  UnsupportedProtocolError,
} from '../../src/transport/index.ts'
import { createLibp2pNode, Libp2pTransport, PeerGate } from '../../src/transport/libp2p/index.ts'

const CLUSTER = 'fwd'
const ECHO = `/solar-orbit/${CLUSTER}/echo/1.0.0`
const FAIL = `/solar-orbit/${CLUSTER}/fail/1.0.0`
const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('forwarding through a connected member', () => {
  const inner: Libp2pTransport[] = []
  const routed: RoutedTransport[] = []
  let state: ClusterState = emptyState
  let outsider: Libp2pTransport

  beforeAll(async () => {
    const gates = [new PeerGate(), new PeerGate(), new PeerGate()]
    for (const gate of gates) {
      inner.push(
        new Libp2pTransport({
          node: await createLibp2pNode({ gate }),
          scheduler: timerScheduler,
        }),
      )
    }
    await Promise.all(inner.map((t) => t.start()))
    const [a, b, c] = inner as [Libp2pTransport, Libp2pTransport, Libp2pTransport]
    gates[0]!.deny(c.self)
    gates[2]!.deny(a.self)
    await a.connect(b.multiaddrs()[0]!)
    await c.connect(b.multiaddrs()[0]!)
    // c advertises a relayed address through b, as a browser does through its relay.
    state = announce(state, { id: a.self, addresses: a.multiaddrs() }, a.self)
    state = announce(state, { id: b.self, addresses: b.multiaddrs() }, a.self)
    const relayed = `${b.multiaddrs()[0]}/p2p-circuit/webrtc/p2p/${c.self}`
    state = announce(state, { id: c.self, addresses: [relayed] }, a.self)
    for (const t of inner) {
      routed.push(
        new RoutedTransport(t, {
          cluster: CLUSTER,
          members: () => state.members,
          authorize: (peer) => state.members.some((m) => m.id === peer),
        }),
      )
    }
    c.handle(ECHO, (request, from) =>
      bytes(`c:${text(request)}:${from === b.self ? 'via b' : from}`),
    )
    c.handle(FAIL, () => {
      throw new SolarOrbitError('ERR_TEST', 'failed on purpose')
    })
    outsider = new Libp2pTransport({ node: await createLibp2pNode(), scheduler: timerScheduler })
    await outsider.start()
    await outsider.connect(b.multiaddrs()[0]!)
  })

  afterAll(async () => {
    await Promise.all([...inner, outsider].map((t) => t?.stop()))
  })

  it('reaches a member with no direct connection through the relay it advertises', async () => {
    const [a, b, c] = routed as [RoutedTransport, RoutedTransport, RoutedTransport]
    expect(a.isDirect(c.self)).toBe(false)
    expect(a.peers()).toContain(c.self)
    expect(a.reaches(c.self)).toBe(true)
    expect(text(await a.request(c.self, ECHO, bytes('hi')))).toBe('c:hi:via b')
    expect(b.forwarded).toBe(1)
  })

  it("passes the target's error code back", async () => {
    const [a, , c] = routed as [RoutedTransport, RoutedTransport, RoutedTransport]
    const error = await a.request(c.self, FAIL, bytes('x')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RemoteError)
    expect((error as RemoteError).remoteCode).toBe('ERR_TEST')
  })

  it('refuses non-members, foreign protocols and targets the hop is not connected to', async () => {
    const [a, b, c] = routed as [RoutedTransport, RoutedTransport, RoutedTransport]
    const { encodeCbor } = await import('../../src/core/index.ts')
    const forward = (target: string, protocol: string) =>
      encodeCbor([1, target, protocol, bytes('x')])
    const refused = await outsider
      .request(b.self, forwardProtocol(CLUSTER), forward(c.self, ECHO))
      .catch((e: unknown) => e)
    expect((refused as RemoteError).remoteCode).toBe('ERR_FORWARD_REFUSED')
    const foreign = await inner[0]!
      .request(b.self, forwardProtocol(CLUSTER), forward(c.self, '/other/echo/1.0.0'))
      .catch((e: unknown) => e)
    expect((foreign as RemoteError).remoteCode).toBe('ERR_FORWARD_REFUSED')
    const nested = await inner[0]!
      .request(b.self, forwardProtocol(CLUSTER), forward(c.self, forwardProtocol(CLUSTER)))
      .catch((e: unknown) => e)
    expect((nested as RemoteError).remoteCode).toBe('ERR_FORWARD_REFUSED')
    const garbage = await inner[0]!
      .request(b.self, forwardProtocol(CLUSTER), new Uint8Array([0xff, 1, 2]))
      .catch((e: unknown) => e)
    expect((garbage as RemoteError).remoteCode).toBe('ERR_DECODE')
    const future = await inner[0]!
      .request(b.self, forwardProtocol(CLUSTER), encodeCbor([2, c.self, ECHO, bytes('x')]))
      .catch((e: unknown) => e)
    expect((future as RemoteError).remoteCode).toBe('ERR_DECODE')
    const lost = await inner[0]!
      .request(b.self, forwardProtocol(CLUSTER), forward(outsider.self.replace(/.$/, 'x'), ECHO))
      .catch((e: unknown) => e)
    expect((lost as RemoteError).remoteCode).toBe(UnreachableError.code)
    // c's own request to a, which has no echo handler: a's answer comes back through b.
    const unsupported = await c.request(a.self, ECHO, bytes('x')).catch((e: unknown) => e)
    expect(unsupported).toBeInstanceOf(UnsupportedProtocolError)
    expect((unsupported as UnsupportedProtocolError).peer).toBe(a.self)
  })
})
