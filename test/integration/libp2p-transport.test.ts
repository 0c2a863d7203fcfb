/**
 * Libp2pTransport between two processes on TCP loopback: a request and its answer, a broadcast round
 * trip over gossipsub, and what a requester sees when the other process dies mid-request.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { timerScheduler } from '../../src/runtime/system-ports.ts'
import { UnreachableError } from '../../src/transport/index.ts'
import { createLibp2pNode, Libp2pTransport } from '../../src/transport/libp2p/index.ts'

const PEER_SCRIPT = new URL('./_transport-peer.ts', import.meta.url).pathname
const text = (data: Uint8Array): string => new TextDecoder().decode(data)
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value)

describe('Libp2pTransport across processes', () => {
  let child: ChildProcess
  let childId: string
  let childAddr: string
  let transport: Libp2pTransport

  beforeAll(async () => {
    child = spawn(process.execPath, [PEER_SCRIPT, '60000'], { stdio: ['pipe', 'pipe', 'inherit'] })
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`peer exited early with code ${code}`)))
    })
    ;({ id: childId, addr: childAddr } = JSON.parse(line) as { id: string; addr: string })
    const node = await createLibp2pNode({ gossipHeartbeatMs: 100 })
    transport = new Libp2pTransport({ node, scheduler: timerScheduler })
    await transport.start()
    expect(await transport.connect(childAddr)).toBe(childId)
  })

  afterAll(async () => {
    child.kill('SIGKILL')
    await transport?.stop()
  })

  it('sends a request to the other process and gets its answer', async () => {
    expect(text(await transport.request(childId, '/solar-orbit/it/echo/1.0.0', bytes('hi')))).toBe(
      'child:hi',
    )
  })

  it('round-trips a broadcast through gossipsub', async () => {
    const pong = new Promise<string>((resolve) => {
      transport.subscribe('solar-orbit/it/pong', (data, from) => resolve(`${from}:${text(data)}`))
    })
    // Until the peer's subscription has reached us, a broadcast goes nowhere: repeat it.
    const timer = setInterval(() => transport.broadcast('solar-orbit/it/ping', bytes('ping')), 100)
    try {
      expect(await pong).toBe(`${childId}:ping`)
    } finally {
      clearInterval(timer)
    }
  })

  it('fails a request in flight with UnreachableError when the other process dies', async () => {
    const pending = transport
      .request(childId, '/solar-orbit/it/hang/1.0.0', bytes(''), { timeoutMs: 20_000 })
      .catch((error: unknown) => error)
    const gone = new Promise<void>((resolve) => {
      transport.addEventListener('peer:disconnect', (event) => {
        if (event.detail === childId) resolve()
      })
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    child.kill('SIGKILL')
    expect(await pending).toBeInstanceOf(UnreachableError)
    await gone
    expect(transport.peers()).not.toContain(childId)
  })
})
