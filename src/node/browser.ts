/**
 * The browser entry of a Solar Orbit node: a page joins a cluster's libp2p mesh as a member, an owner
 * of partitions kept in IndexedDB by default (riak_core's node, running in a tab).
 *
 * `createBrowserNode` takes the page's identity from IndexedDB (`identity-indexeddb.ts`, so a reload
 * is the same member and causes no handoff), builds the browser libp2p node (WebSockets to Node and
 * Deno peers, WebRTC to other browsers through a Node circuit relay), dials the bootstrap peers,
 * waits for a relay reservation so other browsers can reach it, then hands the transport, an
 * `IndexedDbStorage`, an IndexedDB store of the cluster state and the system ports to `assembleNode`,
 * announcing its `/p2p-circuit/webrtc` address as the member's address. `assembleNode`'s dialler keeps
 * the connections to Node peers (it skips relayed addresses); a WebRTC dialler here opens a direct
 * connection to every other browser member, because the coordinator counts only directly connected
 * members as up (anything else would be a fallback, or a forward through a Node peer, which refuses
 * a page it does not know as a member yet). `createBrowserNode` resolves once its first dials to the
 * browser members it learned at join connected or failed (or those members' dials of it connected),
 * so the node it returns can reach its replicas. Later, of two browsers that meet, the one with the
 * smaller id dials first; the other waits `redialMs` before dialling too, so they rarely open two
 * connections to each other. Members marked down are not dialled (they lift the mark themselves when
 * back).
 *
 * Nothing in this module's graph imports `node:*`.
 */
import { InvalidArgumentError } from '../core/index.ts'
import { statusOf } from '../membership/index.ts'
import { cryptoSeededRandom, systemClock, timerScheduler } from '../runtime/system-ports.ts'
import { IndexedDbStorage } from '../storage/indexeddb.ts'
import { UnreachableError } from '../transport/index.ts'
import {
  createBrowserLibp2pNode,
  Libp2pTransport,
  type PeerGate,
} from '../transport/libp2p/browser.ts'
import { type AssembleInit, assembleNode, type SolarOrbitNode } from './assemble.ts'
import { IndexedDbStateStore, loadIdentity } from './identity-indexeddb.ts'

export type {
  AssembleInit,
  NodeKv,
  RequestDone,
  SolarOrbitNode,
  SolarOrbitNodeEvents,
} from './assemble.ts'
export {
  forgetIdentities,
  type Identity,
  type IdentityInit,
  IndexedDbStateStore,
  loadIdentity,
} from './identity-indexeddb.ts'

/** Options of {@link createBrowserNode}; every {@link AssembleInit} field passes through. */
export interface BrowserNodeInit extends AssembleInit {
  /**
   * WebSocket multiaddrs of Node or Deno peers of the cluster, each ending in `/p2p/<peer id>`
   * (`/ip4/127.0.0.1/tcp/4001/ws/p2p/12D3…`). At least one must answer. One of them must run a circuit
   * relay server, or other browsers cannot reach this page. Required.
   */
  readonly bootstrap: readonly string[]
  /**
   * Prefix of the page's IndexedDB databases: the identity lives in `<name>/identity`, the node's data
   * in `<name>/<slot>`. Default: `solar-orbit/<cluster>`.
   */
  name?: string
  /** Dials and addresses allowed; see `BrowserLibp2pNodeInit.gate`. Default: allows loopback and `ws://`. */
  gate?: PeerGate
  /** STUN/TURN servers for WebRTC. Default: `[]` (host candidates only). */
  iceServers?: RTCIceServer[]
  /** Gossipsub heartbeat interval, in ms. Default 1000. */
  gossipHeartbeatMs?: number
  /** How long to wait for a relay reservation, in ms. Default 15 000. */
  reservationTimeoutMs?: number
  /**
   * How long `createBrowserNode` waits, once the node runs, for its first WebRTC dials to the other
   * browser members to connect or fail, in ms. Default 5000.
   */
  meshTimeoutMs?: number
  /** Period at which the page dials browser members it is not connected to, in ms. Default 1000. */
  dialIntervalMs?: number
  /**
   * Wait after a failed WebRTC dial of a member before trying it again, and the grace the member with
   * the larger id gives the other to dial first, in ms. Default 3000.
   */
  redialMs?: number
}

/** Milestones of {@link createBrowserNode}, in ms of `performance.now()`. */
export interface BrowserNodeTimings {
  /** `createBrowserNode` was called. */
  readonly called: number
  /** The identity was loaded. */
  readonly identity: number
  /** The first bootstrap peer answered. */
  readonly connected: number
  /** The relay granted a reservation. */
  readonly reserved: number
  /** The node was assembled and started. */
  readonly assembled: number
  /** The first WebRTC dials to the other browser members connected or failed (or timed out). */
  readonly meshed: number
}

/** A started browser node; see {@link createBrowserNode}. */
export interface BrowserNode {
  /** The Solar Orbit node: its id, KV API, state, events. */
  readonly node: SolarOrbitNode
  /** The libp2p transport underneath (connections, raw libp2p node). */
  readonly transport: Libp2pTransport
  /** The identity slot this tab holds (0 for the first tab of a browser profile). */
  readonly slot: number
  /** Whether this page made a new identity (a new member) rather than loading one. */
  readonly created: boolean
  /** The address other browsers dial: `<relay>/p2p-circuit/webrtc/p2p/<id>`. */
  readonly address: string
  /** When each start step finished. */
  readonly timings: BrowserNodeTimings
  /** Stops dialling, the node (transport and storage included) and releases the identity slot. */
  stop(): Promise<void>
}

/**
 * Starts a browser node; see the module comment. Throws `InvalidArgumentError` without bootstrap
 * addresses; rejects with `UnreachableError` when no bootstrap peer answers or no relay grants a
 * reservation, and with whatever `assembleNode` rejects with.
 */
export async function createBrowserNode(init: BrowserNodeInit): Promise<BrowserNode> {
  const called = performance.now()
  const cluster = init.cluster ?? 'solar-orbit'
  if (init.bootstrap.length === 0) {
    throw new InvalidArgumentError('createBrowserNode needs at least one bootstrap address')
  }
  const name = init.name ?? `solar-orbit/${cluster}`
  const {
    bootstrap,
    name: _name,
    gate,
    iceServers,
    gossipHeartbeatMs,
    reservationTimeoutMs,
    meshTimeoutMs,
    dialIntervalMs,
    redialMs,
    ...assembleInit
  } = init
  const identity = await loadIdentity({ name })
  const identityAt = performance.now()
  let transport: Libp2pTransport | undefined
  let storage: IndexedDbStorage | undefined
  const stateStore = new IndexedDbStateStore(name, identity.slot)
  try {
    const libp2p = await createBrowserLibp2pNode({
      privateKey: identity.privateKey,
      ...(gate && { gate }),
      ...(iceServers && { iceServers }),
      ...(gossipHeartbeatMs !== undefined && { gossipHeartbeatMs }),
    })
    transport = new Libp2pTransport({ node: libp2p, scheduler: timerScheduler })
    const reservation = relayAddress(transport, reservationTimeoutMs ?? 15_000)
    // Awaited below; until then a timeout must not surface as an unhandled rejection.
    reservation.catch(() => {})
    await transport.start()
    await connectAny(transport, bootstrap)
    const connected = performance.now()
    const address = await reservation
    const reserved = performance.now()
    storage = await IndexedDbStorage.open({ name: `${name}/${identity.slot}` })
    const node = await assembleNode(
      {
        transport,
        storage,
        stateStore,
        clock: systemClock,
        scheduler: timerScheduler,
        random: cryptoSeededRandom(),
      },
      {
        ...assembleInit,
        cluster,
        role: init.role ?? 'owner',
        addresses: init.addresses ?? [address],
        bootstrap,
      },
    )
    const dialer = new WebRtcDialer(transport, node, {
      intervalMs: dialIntervalMs ?? 1000,
      redialMs: redialMs ?? 3000,
    })
    const assembled = performance.now()
    // Ready means able to reach the browser replicas directly: wait for the first WebRTC dials.
    let waited: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      dialer.firstRound,
      new Promise<void>((resolve) => {
        waited = setTimeout(resolve, meshTimeoutMs ?? 5000)
      }),
    ])
    clearTimeout(waited)
    const t = transport
    return {
      node,
      transport: t,
      slot: identity.slot,
      created: identity.created,
      address,
      timings: {
        called,
        identity: identityAt,
        connected,
        reserved,
        assembled,
        meshed: performance.now(),
      },
      async stop() {
        dialer.stop()
        try {
          // Stops the transport and closes the storage too.
          await node.stop()
          await stateStore.close()
        } finally {
          identity.release()
        }
      },
    }
  } catch (error) {
    await transport?.stop().catch(() => {})
    await storage?.close().catch(() => {})
    await stateStore.close().catch(() => {})
    identity.release()
    throw error
  }
}

/** Dials every address in parallel; resolves once one answers, rejects when all failed. */
async function connectAny(transport: Libp2pTransport, addresses: readonly string[]): Promise<void> {
  try {
    await Promise.any(addresses.map((address) => transport.connect(address)))
  } catch (error) {
    const reasons = error instanceof AggregateError ? error.errors : [error]
    throw new UnreachableError(
      addresses.join(', '),
      `no bootstrap peer answered: ${reasons.map((r) => (r instanceof Error ? r.message : String(r))).join('; ')}`,
    )
  }
}

/**
 * Resolves with this node's `/p2p-circuit/webrtc` address once the relay granted a reservation.
 * Checked on `transport:listening` (the relay listener announces the reservation at once) and on
 * `self:peer:update` (debounced by libp2p's address manager).
 */
function relayAddress(transport: Libp2pTransport, timeoutMs: number): Promise<string> {
  const events = ['transport:listening', 'self:peer:update'] as const
  const node = transport.node
  return new Promise((resolve, reject) => {
    const find = (): string | undefined =>
      node
        .getMultiaddrs()
        .map((a) => a.toString())
        .find((a) => a.includes('/p2p-circuit/webrtc'))
    const done = (): void => {
      clearTimeout(timer)
      for (const event of events) node.removeEventListener(event, check)
    }
    const check = (): void => {
      const addr = find()
      if (addr === undefined) return
      done()
      resolve(addr)
    }
    const timer = setTimeout(() => {
      done()
      reject(
        new UnreachableError(
          'relay',
          `no relay reservation within ${timeoutMs} ms: does a bootstrap peer run a relay server?`,
        ),
      )
    }, timeoutMs)
    for (const event of events) node.addEventListener(event, check)
  })
}

/**
 * Keeps a direct WebRTC connection to every live browser member (one that announces a
 * `/p2p-circuit/webrtc` address). Runs on each state change and every `intervalMs`; see the module
 * comment for who dials first.
 */
class WebRtcDialer {
  readonly #transport: Libp2pTransport
  readonly #node: SolarOrbitNode
  readonly #redialMs: number
  readonly #dialling = new Set<string>()
  /** Per member: when this dialer may try it next. */
  readonly #next = new Map<string, number>()
  readonly #timer: ReturnType<typeof setInterval>
  readonly #onChange = (): void => {
    this.#tick(false)
  }
  #stopped = false
  /**
   * Settles when the dials of the first round (every browser member known at start, dialled at once
   * whatever the ids: they do not know this node yet) have connected or failed, a member counting as
   * done too once a direct connection to it opened the other way (its own dial of this node).
   */
  readonly firstRound: Promise<void>

  constructor(
    transport: Libp2pTransport,
    node: SolarOrbitNode,
    init: { intervalMs: number; redialMs: number },
  ) {
    this.#transport = transport
    this.#node = node
    this.#redialMs = init.redialMs
    this.firstRound = Promise.allSettled(this.#tick(true)).then(() => {})
    this.#timer = setInterval(this.#onChange, init.intervalMs)
    node.addEventListener('state:changed', this.#onChange)
  }

  stop(): void {
    this.#stopped = true
    clearInterval(this.#timer)
    this.#node.removeEventListener('state:changed', this.#onChange)
  }

  /** Dials the browser members due for it; returns the dials started. */
  #tick(first: boolean): Promise<void>[] {
    const dials: Promise<void>[] = []
    if (this.#stopped || !this.#transport.isStarted()) return dials
    const self = this.#node.id
    // Only unlimited connections count: the relayed hop a WebRTC dial signals over (or one libp2p
    // opened by itself) stays up but carries no requests.
    const connected = new Set(
      this.#transport.node
        .getConnections()
        .filter((c) => c.status === 'open' && c.limits === undefined)
        .map((c) => c.remotePeer.toString()),
    )
    const now = performance.now()
    for (const member of this.#node.state().members) {
      // A member marked down lifts the mark itself once it is back (through the Node peers).
      if (
        member.id === self ||
        (statusOf(member) !== 'valid' &&
          statusOf(member) !== 'joining' &&
          statusOf(member) !== 'leaving')
      ) {
        continue
      }
      if (connected.has(member.id)) {
        this.#next.delete(member.id)
        continue
      }
      const addresses = member.addresses.filter((a) => a.includes('/p2p-circuit/webrtc'))
      if (addresses.length === 0 || this.#dialling.has(member.id)) continue
      let next = this.#next.get(member.id)
      if (next === undefined) {
        next = first || self < member.id ? now : now + this.#redialMs
        this.#next.set(member.id, next)
      }
      if (now < next) continue
      this.#dialling.add(member.id)
      const dial = this.#dial(member.id, addresses)
      dials.push(first ? Promise.race([dial, this.#connectedTo(member.id, dial)]) : dial)
    }
    return dials
  }

  /** Resolves once a direct (unlimited) connection to `member` opens, or `until` settles. */
  #connectedTo(member: string, until: Promise<void>): Promise<void> {
    const libp2p = this.#transport.node
    return new Promise((resolve) => {
      const onOpen = (
        event: CustomEvent<{ limits?: unknown; remotePeer: { toString(): string } }>,
      ): void => {
        if (event.detail.limits === undefined && event.detail.remotePeer.toString() === member) {
          done()
        }
      }
      const done = (): void => {
        libp2p.removeEventListener('connection:open', onOpen)
        resolve()
      }
      libp2p.addEventListener('connection:open', onOpen)
      until.then(done, done)
    })
  }

  async #dial(member: string, addresses: readonly string[]): Promise<void> {
    try {
      // One at a time, in the member's order: each dial opens a relayed hop for signalling first.
      for (const address of addresses) {
        if (this.#stopped) return
        try {
          await this.#transport.connect(address)
          this.#next.delete(member)
          return
        } catch {
          // Try the next address.
        }
      }
      this.#next.set(member, performance.now() + this.#redialMs)
    } finally {
      this.#dialling.delete(member)
    }
  }
}
