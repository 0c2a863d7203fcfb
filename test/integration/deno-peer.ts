/**
 * A Libp2pTransport peer for Deno, for `deno-transport.test.ts`, built with the same
 * `createLibp2pNode` as Node peers (a TCP listener on loopback). Run as
 * `deno run --allow-net --allow-env deno-peer.ts <node peer multiaddr> [lifetime ms]` from the
 * repository root: Deno resolves the bare `@libp2p/*` imports from `package.json` and `node_modules`
 * on its own (no flags, no import map).
 *
 * It dials the Node peer, asks its echo protocol once, then prints one JSON line per event on stdout:
 * `{ event: 'ready', id, addr, runtime, echo }` when up, `{ event: 'gossip', from, data }` for each
 * message on `GOSSIP_TOPIC`. It serves `DENO_ECHO_PROTOCOL` (answers `deno:<request>`) and exits
 * when its stdin closes, on SIGTERM, or after its lifetime (default 60 s).
 */
import process from 'node:process'
import { timerScheduler } from '../../src/runtime/system-ports.ts'
import { createLibp2pNode, Libp2pTransport } from '../../src/transport/libp2p/index.ts'
import { DENO_ECHO_PROTOCOL, GOSSIP_TOPIC, NODE_ECHO_PROTOCOL } from './deno-names.ts'

const text = (data: Uint8Array): string => new TextDecoder().decode(data)
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value)
const print = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

const [nodeAddr, lifetime] = process.argv.slice(2)
if (nodeAddr === undefined) {
  throw new Error('usage: deno-peer.ts <node peer multiaddr> [lifetime ms]')
}
const transport = new Libp2pTransport({
  node: await createLibp2pNode({ gossipHeartbeatMs: 100 }),
  scheduler: timerScheduler,
})
transport.handle(DENO_ECHO_PROTOCOL, (request) => bytes(`deno:${text(request)}`))
transport.subscribe(GOSSIP_TOPIC, (data, from) =>
  print({ event: 'gossip', from, data: text(data) }),
)

let stopping = false
const shutdown = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  await transport.stop()
  process.exit(0)
}
process.stdin.on('end', shutdown)
process.stdin.resume()
process.on('SIGTERM', shutdown)
setTimeout(shutdown, Number(lifetime ?? 60_000))

await transport.start()
const nodeId = await transport.connect(nodeAddr)
const echo = text(await transport.request(nodeId, NODE_ECHO_PROTOCOL, bytes('from deno')))
print({
  event: 'ready',
  id: transport.self,
  addr: transport.multiaddrs()[0],
  runtime: navigator.userAgent,
  echo,
})
