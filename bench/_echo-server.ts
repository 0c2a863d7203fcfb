/**
 * The echo benchmark's server process (spawned by `_echo-baseline.ts`; not a benchmark itself). It
 * starts a libp2p node on TCP loopback, serves the echo protocols (two raw, one through `Libp2pTransport`), prints its multiaddr as one JSON
 * line on stdout, and exits when its stdin closes (the parent ended), on SIGTERM, or after the lifetime
 * given as its first argument in ms (default 10 minutes), whichever comes first.
 */
import { lpStream } from '@libp2p/utils'
import { timerScheduler } from '../src/runtime/system-ports.ts'
import { createLibp2pNode, Libp2pTransport } from '../src/transport/libp2p/index.ts'
import {
  ECHO_MUX_PROTOCOL,
  ECHO_STREAM_PROTOCOL,
  ECHO_TRANSPORT_PROTOCOL,
  STREAM_LIMIT,
  serveMuxEcho,
} from './_echo-protocols.ts'

const lifetimeMs = Number(process.argv[2] ?? 600_000)
const node = await createLibp2pNode()
await node.handle(
  ECHO_STREAM_PROTOCOL,
  async (stream) => {
    const lp = lpStream(stream)
    try {
      await lp.write(await lp.read())
      await stream.close()
    } catch (error) {
      stream.abort(error as Error)
    }
  },
  { maxInboundStreams: STREAM_LIMIT, maxOutboundStreams: STREAM_LIMIT },
)
await node.handle(ECHO_MUX_PROTOCOL, (stream) => serveMuxEcho(stream), {
  maxInboundStreams: STREAM_LIMIT,
  maxOutboundStreams: STREAM_LIMIT,
})
const transport = new Libp2pTransport({ node, scheduler: timerScheduler })
transport.handle(ECHO_TRANSPORT_PROTOCOL, (request) => request)
await transport.start()

let stopping = false
async function shutdown(): Promise<void> {
  if (stopping) return
  stopping = true
  await transport.stop()
  process.exit(0)
}
process.stdin.on('end', shutdown)
process.stdin.on('close', shutdown)
process.stdin.resume()
process.on('SIGTERM', shutdown)
setTimeout(shutdown, lifetimeMs).unref()

process.stdout.write(`${JSON.stringify({ addr: node.getMultiaddrs()[0]!.toString() })}\n`)
