/**
 * A Libp2pTransport peer in its own process, for `libp2p-transport.test.ts`. It serves an echo protocol
 * and a protocol that never answers, answers each broadcast on `solar-orbit/it/ping` with the same
 * bytes on `solar-orbit/it/pong`, prints `{ addr, id }` as one JSON line, and exits when its stdin
 * closes, on SIGTERM, or after the lifetime in ms given as its first argument (default 60 s).
 */
import { timerScheduler } from '../../src/runtime/system-ports.ts'
import { createLibp2pNode, Libp2pTransport } from '../../src/transport/libp2p/index.ts'

const lifetimeMs = Number(process.argv[2] ?? 60_000)
const node = await createLibp2pNode({ gossipHeartbeatMs: 100 })
const transport = new Libp2pTransport({ node, scheduler: timerScheduler })
transport.handle('/solar-orbit/it/echo/1.0.0', (request) =>
  new TextEncoder().encode(`child:${new TextDecoder().decode(request)}`),
)
transport.handle('/solar-orbit/it/hang/1.0.0', () => new Promise<Uint8Array>(() => {}))
transport.subscribe('solar-orbit/it/ping', (data) =>
  transport.broadcast('solar-orbit/it/pong', data),
)
await transport.start()

let stopping = false
async function shutdown(): Promise<void> {
  if (stopping) return
  stopping = true
  await transport.stop()
  process.exit(0)
}
process.stdin.on('end', shutdown)
process.stdin.resume()
process.on('SIGTERM', shutdown)
setTimeout(shutdown, lifetimeMs).unref()

process.stdout.write(`${JSON.stringify({ addr: transport.multiaddrs()[0], id: transport.self })}\n`)
