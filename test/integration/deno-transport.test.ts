/**
 * A Deno peer on the mesh: `deno-peer.ts` runs under Deno 2 (the npm package `deno`) with the same
 * `createLibp2pNode` and `Libp2pTransport` as Node peers, listening on TCP loopback. It dials the Node
 * peer in this process, which then sends it requests and gossip.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { timerScheduler } from '../../src/runtime/system-ports.ts'
import { createLibp2pNode, Libp2pTransport } from '../../src/transport/libp2p/index.ts'
import { DENO_ECHO_PROTOCOL, GOSSIP_TOPIC, NODE_ECHO_PROTOCOL } from './deno-names.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const DENO = `${repoRoot}node_modules/.bin/deno`
const PEER_SCRIPT = fileURLToPath(new URL('./deno-peer.ts', import.meta.url))
/**
 * All the peer needs: sockets, and environment variables (`supports-color`, via libp2p's logger,
 * reads them). No file access beyond loading its modules, no prompts, so a new need fails the test.
 */
const DENO_PERMISSIONS = ['--no-prompt', '--allow-net', '--allow-env']
/** The Deno peer exits by itself after this long, should this process die without closing its stdin. */
const PEER_LIFETIME_MS = 60_000

const text = (data: Uint8Array): string => new TextDecoder().decode(data)
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value)

type PeerEvent =
  | { event: 'ready'; id: string; addr: string; runtime: string; echo: string }
  | { event: 'gossip'; from: string; data: string }

describe('a Deno peer', () => {
  let child: ChildProcess
  let node: Libp2pTransport
  let ready: Extract<PeerEvent, { event: 'ready' }>
  /** Waiters for the Deno peer's next event of a kind. */
  const waiting = new Map<PeerEvent['event'], (event: PeerEvent) => void>()
  const next = <K extends PeerEvent['event']>(kind: K): Promise<Extract<PeerEvent, { event: K }>> =>
    new Promise((resolve) => waiting.set(kind, resolve as (event: PeerEvent) => void))

  beforeAll(async () => {
    node = new Libp2pTransport({
      node: await createLibp2pNode({ gossipHeartbeatMs: 100 }),
      scheduler: timerScheduler,
    })
    node.handle(NODE_ECHO_PROTOCOL, (request) => bytes(`node:${text(request)}`))
    await node.start()
    const args = [...DENO_PERMISSIONS, PEER_SCRIPT, node.multiaddrs()[0]!, `${PEER_LIFETIME_MS}`]
    child = spawn(DENO, ['run', ...args], {
      cwd: repoRoot,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as PeerEvent
      const waiter = waiting.get(event.event)
      waiting.delete(event.event)
      waiter?.(event)
    })
    ready = await Promise.race([
      next('ready'),
      new Promise<never>((_, reject) =>
        child.once('exit', (code) => reject(new Error(`deno peer exited early with code ${code}`))),
      ),
    ])
  })

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.stdin!.end() // the peer stops its transport and exits
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
    await node?.stop()
  })

  it('runs under Deno and reaches the Node peer over TCP', () => {
    expect(ready.runtime).toMatch(/^Deno\//)
    expect(ready.addr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    expect(node.peers()).toContain(ready.id)
  })

  it('sends a request to the Node peer and gets its answer', () => {
    expect(ready.echo).toBe('node:from deno')
  })

  it('answers a request from the Node peer', async () => {
    expect(text(await node.request(ready.id, DENO_ECHO_PROTOCOL, bytes('hi')))).toBe('deno:hi')
  })

  it('receives a gossip broadcast from the Node peer', async () => {
    const heard = next('gossip')
    // Until the Deno peer's subscription has reached us, a broadcast goes nowhere: repeat it.
    const timer = setInterval(() => node.broadcast(GOSSIP_TOPIC, bytes('from node')), 100)
    try {
      expect(await heard).toEqual({ event: 'gossip', from: node.self, data: 'from node' })
    } finally {
      clearInterval(timer)
    }
  })
})
